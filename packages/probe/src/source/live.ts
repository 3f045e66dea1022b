// `kind: live`: capture from an interface through libpcap (the optional `pcap` npm package, a
// native addon loaded only when a live source starts).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { PcapflowError, errorMessage } from '@pcapflow/core';
import type { SourceEnv } from './file-sources';

export interface LiveSourceConfig {
  interface: string;
  filter: string;
  snaplen: number;
  promiscuous: boolean;
  monitor: boolean;
  buffer_size: number;
  stats_interval: number;
}

/** The subset of node_pcap's API used here. */
interface PcapSession {
  link_type: string;
  on(event: 'packet', fn: (raw: { buf: Buffer; header: Buffer }) => void): void;
  on(event: 'error', fn: (e: unknown) => void): void;
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
  close(): void;
}
interface PcapModule {
  createSession(device: string, options: Record<string, unknown>): PcapSession;
  /** Called (synchronously, from createSession) with libpcap warnings; node_pcap's default writes to the console. */
  warningHandler?: (message: string) => void;
  findalldevs?(): Array<{ name: string }>;
}

const INSTALL_HINT = 'live capture needs libpcap and the optional `pcap` package: apt-get install libpcap-dev && npm install pcap';
const PERMISSION_HINT = 'run as root or grant the capability: sudo setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which node))';

/** Load the native `pcap` addon lazily; a typed error when it is not installed or does not load. */
export function loadPcap(): PcapModule {
  try {
    const req = createRequire(__filename);
    return req('pcap') as PcapModule;
  } catch (e) {
    throw new PcapflowError('PCAPFLOW_DEPENDENCY_MISSING', `the pcap package (libpcap binding) could not be loaded: ${errorMessage(e)}`, { cause: e, hint: INSTALL_HINT });
  }
}

/** Interfaces known to the system (Linux: /sys/class/net, which also lists monitor interfaces without addresses). */
export function listInterfaces(): string[] {
  const names = new Set<string>(Object.keys(os.networkInterfaces()));
  try { for (const n of readdirSync('/sys/class/net')) names.add(n); } catch { /* not Linux */ }
  return [...names].sort();
}

/** Whether this process may open raw sockets (root, or CAP_NET_RAW in the effective set). Undefined when unknown. */
export function mayCapture(): boolean | undefined {
  if (typeof process.getuid === 'function' && process.getuid() === 0) return true;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (!m) return undefined;
    return (BigInt('0x' + m[1]) & (1n << 13n)) !== 0n; // CAP_NET_RAW = 13
  } catch {
    return undefined;
  }
}

function captureError(message: string, hint: string, details?: Record<string, unknown>, cause?: unknown): PcapflowError {
  return new PcapflowError('PCAPFLOW_CAPTURE', message, { hint, details, cause });
}

/** Check interface and permissions before touching libpcap, so the errors are precise. */
export function checkLiveCapture(cfg: Pick<LiveSourceConfig, 'interface'>): void {
  const known = listInterfaces();
  const linux = existsSync('/sys/class/net');
  if (cfg.interface !== 'any' && linux && !known.includes(cfg.interface)) {
    throw captureError(`no such network interface "${cfg.interface}" (interfaces: ${known.join(', ') || 'none'})`,
      'set source.interface to one of the interfaces listed (for Wi-Fi, a monitor-mode interface such as wlan0mon)',
      { interface: cfg.interface, interfaces: known });
  }
  if (mayCapture() === false) {
    throw captureError(`capture on ${cfg.interface} is not permitted: this process is not root and lacks CAP_NET_RAW`, PERMISSION_HINT, { interface: cfg.interface });
  }
}

/** libpcap DLT names as node_pcap reports them → LINKTYPE numbers. */
const LINK_NAMES: Record<string, number> = {
  LINKTYPE_NULL: 0, LINKTYPE_ETHERNET: 1, LINKTYPE_RAW: 101, LINKTYPE_IEEE802_11: 105, LINKTYPE_LINUX_SLL: 113,
  LINKTYPE_IEEE802_11_PRISM: 119, LINKTYPE_IEEE802_11_RADIO: 127, LINKTYPE_IEEE802_11_RADIOTAP: 127,
  LINKTYPE_IEEE802_11_RADIO_AVS: 163, LINKTYPE_PPI: 192, LINKTYPE_LINUX_SLL2: 276,
};

export function linktypeOf(name: string): number {
  if (name in LINK_NAMES) return LINK_NAMES[name]!;
  const m = /(\d+)$/.exec(name);
  return m ? Number(m[1]) : -1;
}

export async function runLiveSource(env: SourceEnv, cfg: LiveSourceConfig): Promise<void> {
  const { ctx, counters } = env;
  checkLiveCapture(cfg);
  const pcap = loadPcap();
  let session: PcapSession;
  // e.g. "wlan0mon: no IPv4 address assigned" (pcap_lookupnet; it only matters to filters using `broadcast`)
  pcap.warningHandler = (message) => ctx.log.info({ interface: cfg.interface }, `libpcap: ${message}`);
  try {
    session = pcap.createSession(cfg.interface, {
      filter: cfg.filter, snap_length: cfg.snaplen, promiscuous: cfg.promiscuous, monitor: cfg.monitor,
      buffer_size: cfg.buffer_size, buffer_timeout: 100,
    });
  } catch (e) {
    const msg = errorMessage(e);
    if (/permi|not permitted|EPERM|access/i.test(msg)) throw captureError(`capture on ${cfg.interface} is not permitted: ${msg}`, PERMISSION_HINT, { interface: cfg.interface }, e);
    if (/no such device|doesn't exist|not found/i.test(msg)) {
      const names = listInterfaces();
      throw captureError(`no such network interface "${cfg.interface}": ${msg} (interfaces: ${names.join(', ')})`, 'set source.interface to an existing interface', { interface: cfg.interface, interfaces: names }, e);
    }
    if (/syntax|filter/i.test(msg)) throw captureError(`invalid BPF filter "${cfg.filter}": ${msg}`, 'check source.filter (tcpdump filter syntax)', { filter: cfg.filter }, e);
    throw captureError(`cannot open ${cfg.interface} for capture: ${msg}`, cfg.monitor ? 'monitor mode needs a Wi-Fi interface and driver that support it' : 'see the libpcap message', { interface: cfg.interface }, e);
  }
  const linktype = linktypeOf(session.link_type);
  const proc = env.newProcessor(cfg.interface);
  const drops = counters.get('kernel_drops');
  const ifDrops = ctx.counter('interface_drops');
  const backlogDrops = ctx.counter('backpressure_drops');
  let waiting = false;
  let failure: unknown;
  let wake = () => {};
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const fail = (e: unknown) => { failure ??= e; wake(); };
  session.on('packet', (raw) => {
    if (failure !== undefined) return;
    const h = raw.header;
    const tsSec = h.readUInt32LE(0);
    const tsUsec = h.readUInt32LE(4);
    const capLen = h.readUInt32LE(8);
    const origLen = h.readUInt32LE(12);
    // Never block libpcap; when the transport is far behind, drop and count rather than buffer without bound.
    if (waiting && proc.emittedSinceReady > 50_000) { backlogDrops.inc(); return; }
    // node_pcap reuses one buffer for every packet, and records (raw), IP defragmentation and
    // DNS-over-TCP reassembly keep views of the packet: copy (Buffer#slice would only be a view).
    const data = Buffer.from(raw.buf.subarray(0, Math.min(capLen, raw.buf.length)));
    try {
      proc.packet(data, 0, data.length, origLen, linktype, tsSec, tsUsec * 1000);
    } catch (e) {
      // Thrown inside libpcap's dispatch callback this would be a fatal exception for the
      // process: end the capture instead (the runtime restarts the source).
      fail(e);
      return;
    }
    if (!waiting && proc.emittedSinceReady >= 1000) {
      waiting = true;
      ctx.ready().then(() => { waiting = false; proc.emittedSinceReady = 0; }, fail);
    }
  });
  session.on('error', fail);
  // libpcap's counters are totals since the session opened; counters get the increase.
  let lastDrop = 0;
  let lastIfDrop = 0;
  const readStats = () => {
    try {
      const s = session.stats();
      if (s.ps_drop > lastDrop) { drops.inc(s.ps_drop - lastDrop); lastDrop = s.ps_drop; }
      if (s.ps_ifdrop > lastIfDrop) { ifDrops.inc(s.ps_ifdrop - lastIfDrop); lastIfDrop = s.ps_ifdrop; }
    } catch { /* stats not supported on this device */ }
  };
  const statsTimer = setInterval(readStats, cfg.stats_interval);
  try {
    while (!ctx.signal.aborted && failure === undefined) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise<void>((resolve) => { t = setTimeout(resolve, 1000); })]);
      clearTimeout(t);
      if (!waiting) await ctx.flush(); // low latency when traffic is light
    }
  } finally {
    clearInterval(statsTimer);
    readStats(); // drops since the last tick
    try { session.close(); } catch { /* already closed */ }
  }
  await ctx.flush();
  if (failure !== undefined) throw captureError(`capture on ${cfg.interface} failed: ${errorMessage(failure)}`, 'the source restarts automatically', { interface: cfg.interface }, failure);
}
