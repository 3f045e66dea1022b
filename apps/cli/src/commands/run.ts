import { createServer, type Server } from 'node:http';
import { createLogger, resolveTopology, Runtime, type LogLevel } from '@pcapflow/core/runtime';
import { EXIT } from '../exit-codes';

export interface RunOptions {
  host?: string;
  logLevel: LogLevel;
  checkRecords?: boolean;
  exitWhenDone?: boolean;
  http?: string;
}

/**
 * Run the instances placed on this host until SIGINT/SIGTERM (drain, ack, exit 0), or with
 * --exit-when-done until sources are finished and every queue is drained.
 */
export async function runCommand(file: string, o: RunOptions): Promise<number> {
  const log = createLogger(o.logLevel, { host: o.host });
  const topology = resolveTopology({ file });
  const runtime = await Runtime.start(topology, { host: o.host, log, checkRecords: o.checkRecords });
  let server: Server | undefined;
  if (o.http) server = serveHealth(runtime, o.http);
  const stopSignal = new AbortController();
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  const onSignal = (sig: string) => {
    if (stopSignal.signal.aborted) return;
    log.info({ signal: sig }, 'signal received; draining');
    stopSignal.abort();
    // A repeat within a second is the same request (Ctrl-C reaches the launcher in bin/pcapflow.js
    // too, which passes it on); a later one stops the process at once (the signal's default action).
    setTimeout(() => { process.removeListener('SIGINT', onInt); process.removeListener('SIGTERM', onTerm); }, 1000).unref();
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  // One bad record never stops the process: stray async errors from plugins are logged, not fatal.
  process.on('unhandledRejection', (err) => log.error({ err: String((err as Error)?.stack ?? err) }, 'unhandled rejection in a plugin'));
  const progress = setInterval(() => {
    const h = runtime.health();
    log.info({ actors: Object.fromEntries(h.actors.map((a) => [a.name, a.metrics])) }, 'progress');
  }, 5000);
  progress.unref();
  if (o.exitWhenDone) await runtime.waitIdle(100, stopSignal.signal);
  else {
    // Nothing else may hold the event loop (the embedded transport, a finished file source): without
    // this, node would exit here at once instead of serving until a signal.
    const alive = setInterval(() => undefined, 1 << 30);
    await new Promise<void>((resolve) => stopSignal.signal.addEventListener('abort', () => resolve(), { once: true }));
    clearInterval(alive);
  }
  clearInterval(progress);
  await runtime.stop();
  server?.close();
  const h = runtime.health();
  log.info({ actors: Object.fromEntries(h.actors.map((a) => [a.name, a.metrics])) }, 'done');
  // Everything is stopped and acked. A native handle may still hold the event loop: node_pcap
  // releases a live session only when the next matching packet arrives, which on a quiet interface
  // may be never. Exit anyway after a grace period (unref: a clean exit does not wait for it).
  setTimeout(() => {
    log.warn('an open handle (e.g. a live capture on a quiet interface) kept the process alive after stopping; exiting');
    process.exit(process.exitCode ?? EXIT.OK);
  }, 3000).unref();
  return EXIT.OK;
}

/** GET /health (200 when every actor is ok, else 503) and GET /metrics (JSON counters). */
function serveHealth(runtime: Runtime, listen: string): Server {
  const [hostPart, portPart] = listen.includes(':') ? listen.split(':') : ['127.0.0.1', listen];
  const server = createServer((req, res) => {
    const h = runtime.health();
    if (req.url === '/health') { res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }); res.end(JSON.stringify(h)); return; }
    if (req.url === '/metrics') { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(Object.fromEntries(h.actors.map((a) => [a.name, a.metrics])))); return; }
    res.writeHead(404); res.end();
  });
  server.listen(Number(portPart), hostPart || '127.0.0.1');
  return server;
}
