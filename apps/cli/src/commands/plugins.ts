import path from 'node:path';
import { describePlugin, listInstalledPlugins, loadPlugin, topologyJsonSchema, RUNTIME_VERSION } from '@pcapflow/core/runtime';
import type { PluginDeclaration } from '@pcapflow/core';
import { EXIT } from '../exit-codes';

export function pluginsCommand(o: { describe?: string; json?: boolean }): number {
  const cwd = process.cwd();
  if (o.describe) {
    const p = loadPlugin(o.describe, cwd);
    process.stdout.write(o.json ? JSON.stringify({ name: p.packageName, version: p.version, runtime: p.runtimeRange, summary: p.declaration.summary }) + '\n' : describePlugin(p.declaration, p.version));
    return EXIT.OK;
  }
  const list = listInstalledPlugins(cwd);
  if (o.json) { process.stdout.write(JSON.stringify(list, null, 2) + '\n'); return EXIT.OK; }
  process.stdout.write(`pcapflow runtime ${RUNTIME_VERSION}\n`);
  for (const p of list) {
    let summary = '';
    try { summary = loadPlugin(p.dir, cwd).declaration.summary; } catch (e) { summary = `(cannot load: ${(e as Error).message})`; }
    process.stdout.write(`${p.name.padEnd(28)} ${p.version.padEnd(8)} runtime ${p.runtime.padEnd(8)} ${summary}\n`);
  }
  return EXIT.OK;
}

export function installedDeclarations(): PluginDeclaration[] {
  const out: PluginDeclaration[] = [];
  for (const p of listInstalledPlugins(process.cwd())) {
    try { out.push(loadPlugin(p.dir, path.dirname(p.dir)).declaration); } catch { /* listed by `pcapflow plugins` with its error */ }
  }
  return out;
}

export function schemaCommand(): number {
  process.stdout.write(JSON.stringify(topologyJsonSchema(installedDeclarations()), null, 2) + '\n');
  return EXIT.OK;
}
