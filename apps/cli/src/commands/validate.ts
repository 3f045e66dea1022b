import { resolveTopology } from '@pcapflow/core/runtime';
import { EXIT } from '../exit-codes';

export function validateCommand(file: string): number {
  const t = resolveTopology({ file });
  const instances = t.instances.length;
  process.stdout.write(`${file}: valid (${instances} instance${instances === 1 ? '' : 's'}, ${t.streams.length} stream${t.streams.length === 1 ? '' : 's'})\n`);
  return EXIT.OK;
}
