/**
 * @pcapflow/probe — the capture plugin (default export) and the decoding library.
 *
 * The library surface is deliberately small: readers, the two decoders with their record
 * builders, the tshark-compatible ek formatters, MAC helpers, and `decodeCommand` (the
 * `pcapflow decode` CLI command). Internals (radiotap parsers, reassembly, flow tables) stay private.
 */
import { plugin } from './plugin';

export default plugin;
export { plugin, configSchema } from './plugin';
export type { ProbeConfig } from './plugin';

// Capture files
export {
  readCapture, forEachPacket, CaptureStreamReader, CaptureParser, newReaderCounters, detectCaptureFormat,
  STEP_PACKET, STEP_CONTINUE, STEP_NEED_MORE, STEP_DONE,
} from './capture/reader';
export type { Packet, ReaderCounters, CaptureFormat } from './capture/reader';
export { isWifiLinktype } from './capture/linktypes';

// Wi-Fi
export { WifiDecoder, WifiFrame, decodeWifi, toRecord, subtypeName, formatEkWifi, writeEkWifi, EkSink } from './wifi';
export type { WifiRecord, VendorIe, WifiCounters } from './wifi';
export {
  MacResolver, getMacResolver, macToString, normalizeMac, isMulticastMac, isLocallyAdministeredMac, isBroadcastMac,
} from './oui';

// Wired
export { WiredDecoder, toWiredRecord, flowKey, formatEkFlows, formatEkDns } from './wired';
export type { WiredRecord, WiredDnsRecord, WiredDnsAnswer, WiredFrame, WiredPacket } from './wired';

// Records as the plugin publishes them, and tshark -T ek input
export type { FrameRecord, PacketRecord, FieldSelection } from './source/processor';
/** Field names for `fields:` (tshark's -e) on each output. */
export { WIRED_FIELDS } from './source/processor';
export { FRAME_FIELDS } from './wifi/pack';
export { parseEkLine } from './source/tshark-ek';
export type { EkRecord } from './source/tshark-ek';

// `pcapflow decode`
export { decodeCommand } from './decode-command';
export type { DecodeCommandOptions, DecodeFormat, DecodeFields } from './decode-command';
