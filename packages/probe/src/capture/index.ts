export {
  readCapture, forEachPacket, CaptureParser, PacketCursor, packetAt, CaptureStreamReader, newReaderCounters, detectCaptureFormat,
  assertCapture, CaptureFormatError, MAX_RECORD_SIZE, STEP_PACKET, STEP_CONTINUE, STEP_NEED_MORE, STEP_DONE,
} from './reader';
export type { Packet, ReaderCounters, CaptureFormat, StreamEndResult } from './reader';
export * from './linktypes';
