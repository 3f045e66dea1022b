#!/usr/bin/env node
'use strict';
// `pcapflow run` moves millions of short-lived records. With V8's default young generation many of
// them are promoted before they die: the aggregates and sinks spent about 1.5 to 2 times as long in
// GC pauses (README.md, "Benchmarks"). Node takes the size only at start-up, so `run` starts itself
// again with it, unless it was given (command line or NODE_OPTIONS) or node runs under the inspector
// (a second process could not take the same port).
const FLAG = '--max-semi-space-size';
const SEMI_SPACE_MB = 64;
const given = process.execArgv.some((a) => a.startsWith(FLAG) || a.startsWith('--inspect')) || (process.env.NODE_OPTIONS || '').includes(FLAG);
if (process.argv[2] === 'run' && !given) {
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, `${FLAG}=${SEMI_SPACE_MB}`, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  // Signals sent to this process are passed on (run drains on SIGINT and SIGTERM). Ctrl-C reaches
  // both processes; run counts a repeat within a second once.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { if (child.exitCode === null) child.kill(sig); });
  child.on('error', (e) => { console.error(`pcapflow: could not start ${process.execPath}: ${e.message}`); process.exit(70); });
  child.on('exit', (code, signal) => {
    if (signal) { process.removeAllListeners(signal); process.kill(process.pid, signal); } else process.exit(code ?? 1);
  });
} else {
  require('../dist/main.js').main(process.argv).then((code) => { process.exitCode = code; });
}
