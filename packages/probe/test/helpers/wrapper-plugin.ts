import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const PKG = JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };

/** A local plugin package that re-exports the sources (jest maps @pcapflow/probe to src), so no build is needed. */
export function wrapperPlugin(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-probe-plugin-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: '@pcapflow/probe', version: PKG.version, main: 'index.js', pcapflow: { plugin: true, runtime: '^0.1.0' } }));
  writeFileSync(path.join(dir, 'index.js'), "module.exports = require('@pcapflow/probe');\n");
  return dir;
}
