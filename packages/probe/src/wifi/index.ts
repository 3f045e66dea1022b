// Public Wi-Fi surface for the probe plugin and CLI.
export { WifiDecoder, WifiFrame, newWifiCounters, MAX_LIST } from './decoder';
export type { WifiCounters } from './decoder';
export { toRecord, subtypeName } from './record';
export type { WifiRecord, VendorIe } from './record';
export { formatEkWifi, writeEkWifi, EkSink, ekTimestamp } from '../ek/wifi';
export {
  RadioInfo, mhzToChannel, computeRadio, PHY_UNKNOWN, PHY_11B, PHY_11A, PHY_11G, PHY_11N, PHY_11AC, PHY_11AX,
} from './radio';
export { parseRadiotap, parsePpi, parsePrism, parseAvs, HeaderResult } from './phy-headers';
export {
  MacResolver, getMacResolver, macToString, macKey, normalizeMac, macBytes, isMulticastMac, isLocallyAdministeredMac,
  isBroadcastMac,
} from '../oui';
export { isWifiLinktype } from '../capture/linktypes';

import { WifiDecoder } from './decoder';
import type { Packet } from '../capture/reader';
import { toRecord, WifiRecord } from './record';

/** Convenience (allocating) API: decode one Packet into a typed record. Prefer WifiDecoder in hot loops. */
export function decodeWifi(pkt: Packet, decoder: WifiDecoder = new WifiDecoder()): WifiRecord {
  const fr = decoder.decode(pkt.data, 0, pkt.capLen, pkt.origLen, pkt.linktype, pkt.tsSec, pkt.tsNsec);
  return toRecord(fr);
}
