import { z } from 'zod';
import { parseDuration } from './duration';

const duration = z
  .union([z.string(), z.number().nonnegative()])
  .describe('a duration: milliseconds, or a string such as 500ms, 30s, 2m, 1h, 7d')
  .superRefine((v, ctx) => {
    try { parseDuration(v); } catch (e) { ctx.addIssue({ code: 'custom', message: (e as Error).message }); }
  })
  .transform((v) => parseDuration(v));

const subjectName = z.string().min(1).regex(/^[^\s]+$/, 'a subject has no whitespace');

export const natsTransportSchema = z.strictObject({
  servers: z.union([z.string(), z.array(z.string()).min(1)]).describe('NATS server URL(s), e.g. nats://127.0.0.1:4222')
    .transform((v) => (Array.isArray(v) ? v : [v])),
  name: z.string().optional().describe('connection name shown by the server'),
  credentials: z.string().optional().describe('path to a NATS .creds file'),
  user: z.string().optional(),
  pass: z.string().optional(),
  token: z.string().optional(),
  tls: z.strictObject({
    ca: z.string().optional().describe('CA certificate file'),
    cert: z.string().optional().describe('client certificate file'),
    key: z.string().optional().describe('client key file'),
    handshake_first: z.boolean().optional(),
  }).optional(),
});

export const transportSchema = z
  .union([
    z.literal('embedded').describe('the in-process transport: no server, same semantics'),
    z.strictObject({ nats: natsTransportSchema }),
    z.strictObject({ embedded: z.strictObject({}).optional() }),
  ])
  .default('embedded')
  .describe('where messages travel: `embedded` (default) or `{ nats: { servers: ... } }`');

export const streamSchema = z.strictObject({
  subjects: z.array(subjectName).min(1).describe('subjects captured by this stream, e.g. ["wifi.frames.>"]'),
  retention: z.enum(['limits', 'interest', 'workqueue']).default('limits'),
  storage: z.enum(['file', 'memory']).default('file'),
  max_age: duration.optional().describe('discard messages older than this'),
  max_bytes: z.number().int().positive().optional(),
  max_msgs: z.number().int().positive().optional(),
  duplicate_window: duration.default(120_000).describe('window for Nats-Msg-Id deduplication'),
  replicas: z.number().int().min(1).max(5).default(1),
});

export const consumerSchema = z.strictObject({
  max_ack_pending: z.number().int().positive().default(256).describe('unacked messages in flight per actor (backpressure bound)'),
  ack_wait: duration.default(30_000).describe('redeliver a message not acked within this time'),
  max_deliver: z.number().int().positive().default(5).describe('deliveries before a message is dead-lettered'),
  backoff: z.array(duration).default([250, 1000, 5000]).describe('redelivery delays after retryable failures'),
  linger: duration.default(0).describe('group handlers (aggregate, sinks) on NATS: wait up to this long for more messages while fewer wait than one pull brings (max_ack_pending, at most 64), so more are handled, committed and written together (throughput for that much latency)'),
});

const inputSchema = z.union([
  subjectName,
  z.strictObject({
    subject: subjectName.describe('subject filter; may hold {partition} when the instance is partitioned'),
    partitions: z.number().int().positive().optional().describe('partition count of {partition} in the subject'),
  }),
]);

const outputSchema = z.union([
  subjectName,
  z.strictObject({
    subject: subjectName.describe('subject template, e.g. wifi.frames.{type_subtype}.p{sa%16}'),
    batch: z.number().int().positive().optional().describe('records per message (default 500)'),
  }),
]);

export const instanceSchema = z.strictObject({
  use: z.string().min(1).describe('npm package name (e.g. "@pcapflow/probe") or a local path ("./plugins/mine")'),
  version: z.string().optional().describe('semver range the installed plugin must satisfy, e.g. "^0.1.0"'),
  config: z.unknown().optional().describe('plugin configuration, validated by the plugin\'s own schema'),
  inputs: z.record(z.string(), inputSchema).default({}),
  outputs: z.record(z.string(), outputSchema).default({}),
  hosts: z.array(z.string()).optional().describe('hosts this instance runs on (pcapflow run --host NAME); "*" for every host'),
  labels: z.array(z.string()).optional().describe('run on hosts carrying any of these labels'),
  instances: z.number().int().positive().default(1).describe('parallel actors; keys are split so no two own one key'),
  consumer: consumerSchema.partial().optional(),
  dead_letter: subjectName.optional().describe('dead-letter subject (default pcapflow.dlq.<instance>)'),
});

export const topologySchema = z.strictObject({
  version: z.literal(1).default(1),
  name: z.string().optional(),
  transport: transportSchema,
  hosts: z.record(z.string(), z.strictObject({ labels: z.array(z.string()).default([]) })).default({}),
  defaults: z.strictObject({ consumer: consumerSchema.partial().optional() }).optional(),
  streams: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'stream names use letters, digits, _ and -'), streamSchema).default({}),
  instances: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'instance names use letters, digits, _ and -'), instanceSchema),
});

export type TopologyInput = z.input<typeof topologySchema>;
export type Topology = z.output<typeof topologySchema>;
export type InstanceSpec = z.output<typeof instanceSchema>;
export type ConsumerOptions = z.output<typeof consumerSchema>;
