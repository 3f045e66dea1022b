import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const PKG = JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };

/**
 * A local plugin package re-exporting the sources (jest maps @pcapflow/aggregate to src), so a
 * topology's `use:` can load the plugin without a build. Returns the package's directory.
 */
export function wrapperPlugin(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-aggregate-plugin-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: '@pcapflow/aggregate', version: PKG.version, main: 'index.js', pcapflow: { plugin: true, runtime: '^0.1.0' } }));
  writeFileSync(path.join(dir, 'index.js'), "module.exports = require('@pcapflow/aggregate');\n");
  return dir;
}
