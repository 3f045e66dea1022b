// Stateful wrapper: one instance per capture (or live session). Numbers frames from 1 and owns the
// state that makes the output equal to tshark's two-pass-free single pass: IP reassembly,
// tcp/udp stream numbering, DNS-over-TCP reassembly.

import { decodeWired, TcpDnsReassembler, type DecodeState } from './decode';
import { Defragmenter } from './defrag';
import { FlowTable } from './flow';
import type { WiredFrame, WiredPacket } from './types';

export interface WiredDecoderOptions {
  /** Reassemble IPv4/IPv6 fragments (tshark default: true). */
  defragment?: boolean;
}

export class WiredDecoder {
  readonly flows = new FlowTable();
  private readonly state: DecodeState;
  private frame = 0;
  /** Frames flagged malformed so far. */
  malformedCount = 0;

  constructor(opts: WiredDecoderOptions = {}) {
    this.state = {
      flows: this.flows,
      defrag: opts.defragment === false ? undefined : new Defragmenter(),
      tcpDns: new TcpDnsReassembler(),
    };
  }

  get framesDecoded(): number { return this.frame; }

  decode(pkt: WiredPacket): WiredFrame {
    const f = decodeWired(pkt, ++this.frame, this.state);
    if (f.malformed) this.malformedCount++;
    return f;
  }
}
