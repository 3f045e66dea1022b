// The @pcapflow/probe plugin declaration: capture sources → typed Wi-Fi and wired records.

import { definePlugin, parseDuration, errorMessage, type Actor, type ActorContext } from '@pcapflow/core';
import { z } from 'zod';
import { runDirectorySource, runFileSource, type SourceEnv } from './source/file-sources';
import { runLiveSource } from './source/live';
import { Counters, PacketProcessor, selectWiredFields, WIRED_FIELDS, type ProcessorOptions } from './source/processor';
import { runTsharkEkSource } from './source/tshark-ek';
import { DETAIL_GROUPS, FRAME_FIELDS, selectFrameFields, type DetailGroup } from './wifi/pack';

const { version } = require('../package.json') as { version: string };

const duration = z
  .union([z.number().nonnegative(), z.string()])
  .superRefine((v, c) => { try { parseDuration(v); } catch (e) { c.addIssue({ code: 'custom', message: errorMessage(e) }); } })
  .transform((v) => parseDuration(v));

const fileSource = z.strictObject({
  kind: z.literal('file'),
  path: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .describe('a pcap/pcapng file, a directory (all *.pcap, *.pcapng, *.cap in it), or a glob (* ? [..] {a,b} **); several allowed')
    .meta({ examples: ['/data/capture.pcapng', '/data/2024-*/*.pcap'] }),
  pace: z.union([z.literal('full'), z.literal('realtime'), z.number().positive()]).default('full')
    .describe('"full" = as fast as the pipeline takes it; "realtime" = at capture pace; a number N = N times capture pace')
    .meta({ examples: ['full', 'realtime', 10] }),
}).describe('read capture files once (pcap LE/BE, µs/ns, modified; pcapng), then finish');

const directorySource = z.strictObject({
  kind: z.literal('directory'),
  path: z.string().min(1).describe('directory that rotating captures are written to (tcpdump -G/-W -w DIR/name-%s.pcap)')
    .meta({ examples: ['/var/capture'] }),
  pattern: z.string().default('*.{pcap,pcapng,cap}').describe('glob on file names in the directory')
    .meta({ examples: ['wlan0-*.pcap'] }),
  follow: z.boolean().default(true).describe('keep watching for new files and for data appended to the newest one; false = read what is there and finish'),
  poll_interval: duration.default(1000).describe('how often the directory is scanned (ms, or "2s")'),
  state_bucket: z.string().regex(/^[A-Za-z0-9_-]+$/).optional()
    .describe('KV bucket remembering per-file progress across restarts (default probe_<instance>)'),
  pace: z.union([z.literal('full'), z.literal('realtime'), z.number().positive()]).default('full')
    .describe('"full" = as fast as the pipeline takes it; "realtime" = at capture pace (across files, one clock); a number N = N times capture pace')
    .meta({ examples: ['full', 'realtime', 10] }),
}).describe('follow a directory of rotating capture files: each file read once, the newest read as it grows, progress kept in KV');

const liveSource = z.strictObject({
  kind: z.literal('live'),
  interface: z.string().min(1).describe('network interface, e.g. a monitor-mode Wi-Fi interface').meta({ examples: ['wlan0mon', 'eth0'] }),
  filter: z.string().default('').describe('BPF capture filter (tcpdump syntax)').meta({ examples: ['type mgt subtype probe-req', 'udp port 53'] }),
  snaplen: z.number().int().min(64).max(262144).default(65535).describe('bytes captured per packet'),
  promiscuous: z.boolean().default(false).describe('put the interface into promiscuous mode'),
  monitor: z.boolean().default(false).describe('put the Wi-Fi interface into monitor (rfmon) mode'),
  buffer_size: z.number().int().positive().default(16 * 1024 * 1024).describe('kernel capture buffer bytes'),
  stats_interval: duration.default(1000).describe('how often libpcap drop counters are read'),
}).describe('capture live through libpcap (needs the optional `pcap` package and root or CAP_NET_RAW)');

const tsharkEkSource = z.strictObject({
  kind: z.literal('tshark-ek'),
  path: z.string().min(1).describe('file of `tshark -T ek` JSON lines, or "-" for stdin').meta({ examples: ['-', '/data/sensor.jsonl'] }),
}).describe('read tshark -T ek output (e.g. `tshark -i wlan0mon -T ek -e wlan.sa ... | pcapflow run ...`)');

export const configSchema = z.strictObject({
  source: z.discriminatedUnion('kind', [fileSource, directorySource, liveSource, tsharkEkSource])
    .describe('where packets come from: file, directory, live or tshark-ek')
    .meta({ examples: [{ kind: 'file', path: '/data/capture.pcapng' }, { kind: 'directory', path: '/var/capture', pattern: '*.pcap' }, { kind: 'live', interface: 'wlan0mon', monitor: true }] }),
  wifi: z.boolean().default(true).describe('decode 802.11 link types (radiotap, raw 802.11, Prism, PPI, AVS) to the frames output'),
  wired: z.boolean().default(true).describe('decode Ethernet, Linux SLL, raw IP link types to the wired output'),
  keep_raw: z.boolean().default(false).describe('raw-packet retention: put the frame bytes on each record (`raw`)'),
  malformed: z.enum(['emit', 'skip']).default('emit').describe('frames flagged malformed are always counted; "emit" publishes them with malformed: true, "skip" drops them'),
  detail: z.union([z.enum(['basic', 'full']), z.array(z.enum(DETAIL_GROUPS)).max(DETAIL_GROUPS.length)]).default('basic')
    .describe('optional frame record fields: "basic" (none), "full" (all), or a list of groups: "resolved" (ra/ta/da/bssid_resolved; sa_resolved is always there), "ssid_hex" (ssid_hex, ssids_hex), "vendor_ies"')
    .meta({ examples: ['basic', 'full', ['resolved', 'vendor_ies']] }),
  fields: z.strictObject({
    frames: z.array(z.string()).min(1).optional()
      .describe(`only these fields on each frames record, like tshark's -e (absent: every field). Fields: ${FRAME_FIELDS.join(', ')} (detail groups and raw need their detail group / keep_raw)`)
      .meta({ examples: [['ts', 'type_subtype', 'subtype_name', 'sa', 'sa_resolved', 'da', 'signal_dbm', 'ssid', 'wps_device_name']] }),
    wired: z.array(z.string()).min(1).optional()
      .describe(`only these fields on each wired record (absent: every field). Fields: ${WIRED_FIELDS.join(', ')} (raw needs keep_raw)`)
      .meta({ examples: [['ts', 'kind', 'ip_src', 'ip_dst', 'src_port', 'dst_port', 'flow_key', 'dns']] }),
  }).optional()
    .describe('field selection per output (tshark -e): unselected fields are never written (on frames, not computed either). The fields the output subject uses ({subtype_name}, {sa%16} …) must be in the list (checked when the topology loads)'),
}).superRefine((c, ctx) => {
  // Checked here, not in `fields` alone: which fields exist depends on detail and keep_raw.
  const groups = detailGroups(c.detail);
  c.fields?.frames?.forEach((f, i) => {
    const r = selectFrameFields([f], groups, c.keep_raw);
    if (typeof r === 'string') ctx.addIssue({ code: 'custom', path: ['fields', 'frames', i], message: r });
  });
  c.fields?.wired?.forEach((f, i) => {
    const r = selectWiredFields([f], c.keep_raw);
    if (typeof r === 'string') ctx.addIssue({ code: 'custom', path: ['fields', 'wired', i], message: r });
  });
});

/** The detail groups a config asks for. */
export function detailGroups(detail: ProbeConfig['detail']): DetailGroup[] {
  if (detail === 'basic') return [];
  if (detail === 'full') return [...DETAIL_GROUPS];
  return DETAIL_GROUPS.filter((g) => detail.includes(g));
}

export type ProbeConfig = z.output<typeof configSchema>;

const mac = z.string().nullable();
const frameRecord = z.looseObject({
  ts: z.number().describe('frame time, ms since the epoch (fractional)'),
  frame: z.number().int(),
  capture: z.string(),
  malformed: z.boolean(),
  type_subtype: z.number().int().nullable(),
  subtype_name: z.string().nullable(),
  channel: z.number().nullable(),
  signal_dbm: z.number().nullable(),
  ra: mac, ta: mac, da: mac, sa: mac, bssid: mac,
  sa_local: z.boolean().nullable(),
  ssid: z.string().nullable(),
  sa_resolved: z.string().nullable(),
  ssid_hex: z.string().nullable().optional().describe('with detail ssid_hex'),
});

const wiredRecord = z.looseObject({
  ts: z.number(),
  frame: z.number().int(),
  capture: z.string(),
  kind: z.enum(['dns', 'tcp', 'udp', 'icmp', 'icmpv6', 'other']),
  ip_src: z.string().nullable(),
  ip_dst: z.string().nullable(),
  src_port: z.number().nullable(),
  dst_port: z.number().nullable(),
  flow_key: z.string().nullable(),
  malformed: z.boolean(),
});

const DESCRIPTION = `Reads packet captures — pcap/pcapng files, directories of rotating tcpdump files, live
interfaces (libpcap) or tshark \`-T ek\` JSON — and decodes them into typed records whose field
values equal tshark 4.0's: radiotap/PPI/Prism + 802.11 (type/subtype, addresses, SSID, vendor
elements, country, WPS …) on \`frames\`, Ethernet/VLAN/MPLS/IP/TCP/UDP/DNS with a
direction-independent flow key on \`wired\`.

Counters (health metrics): frames_read, decoded, malformed, linktype_<n>, unsupported_linktype,
kernel_drops (live), truncated_records, capture_errors, files_done.`;

export const plugin = definePlugin({
  name: '@pcapflow/probe',
  version,
  summary: 'Capture (files, rotating directories, live, tshark ek) and decode Wi-Fi and wired traffic into typed records',
  description: DESCRIPTION,
  config: configSchema,
  inputs: [],
  outputs: [
    {
      name: 'frames',
      description: 'one record per 802.11 frame (see README: record fields); subject keyed by subtype and source MAC',
      record: frameRecord,
      defaultSubject: 'wifi.frames.{subtype_name}.p{sa%16}',
    },
    {
      name: 'wired',
      description: 'one record per wired packet, DNS decoded; subject keyed by kind (dns/tcp/udp/…) and flow key',
      record: wiredRecord,
      defaultSubject: 'net.packets.{kind}.p{flow_key%16}',
    },
  ],
  // With a field selection, the runtime checks at load that the output subjects name only selected fields.
  outputFields: (config: ProbeConfig, port: string) => (port === 'frames' ? config.fields?.frames : port === 'wired' ? config.fields?.wired : undefined),
  create(ctx: ActorContext, config: ProbeConfig): Actor {
    const counters = new Counters(ctx);
    let problem: string | undefined;
    const opts: ProcessorOptions = { wifi: config.wifi, wired: config.wired, keepRaw: config.keep_raw, malformed: config.malformed, detail: detailGroups(config.detail), fields: config.fields };
    // outputs the topology leaves unbound are skipped here (checked once, not per record)
    const framesBound = ctx.outputs.includes('frames');
    const wiredBound = ctx.outputs.includes('wired');
    const emit = (output: 'frames' | 'wired', record: Record<string, unknown>) => {
      if (output === 'frames' ? framesBound : wiredBound) ctx.emit(output, record);
    };
    const env: SourceEnv = {
      ctx,
      counters,
      newProcessor: (capture) => new PacketProcessor(emit, counters, opts).beginCapture(capture),
      setProblem: (d) => { problem = d; },
    };
    return {
      async start() {
        const s = config.source;
        switch (s.kind) {
          case 'file': return runFileSource(env, s);
          case 'directory': return runDirectorySource(env, s);
          case 'live': return runLiveSource(env, s);
          case 'tshark-ek': return runTsharkEkSource(env, s);
        }
      },
      health() {
        return { ok: true, detail: problem, metrics: counters.snapshot() };
      },
    };
  },
});
