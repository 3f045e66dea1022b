import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { PcapflowError } from '../errors';
import type { PluginDeclaration } from '../plugin';
import { RUNTIME_VERSION } from './version';

export interface LoadedPlugin {
  declaration: PluginDeclaration;
  /** Where it came from: the package name or the resolved local path. */
  use: string;
  packageName: string;
  version: string;
  runtimeRange: string;
  dir: string;
}

interface PluginPackageJson {
  name?: string;
  version?: string;
  pcapflow?: { plugin?: boolean; runtime?: string };
}

function isLocalPath(use: string): boolean {
  return use.startsWith('.') || path.isAbsolute(use);
}

/** Directories searched for installed plugins: the topology's, the working directory's, the CLI's. */
function searchPaths(fromDir: string): string[] {
  return [fromDir, process.cwd(), __dirname];
}

function findPackageDir(use: string, fromDir: string): string {
  if (isLocalPath(use)) {
    const dir = path.resolve(fromDir, use);
    if (!existsSync(path.join(dir, 'package.json'))) {
      throw new PcapflowError('PCAPFLOW_PLUGIN_NOT_FOUND', `local plugin ${use} not found (no package.json in ${dir})`, {
        hint: 'point `use:` at a plugin package directory; `pcapflow init-plugin NAME` scaffolds one',
      });
    }
    return dir;
  }
  try {
    return path.dirname(require.resolve(`${use}/package.json`, { paths: searchPaths(fromDir) }));
  } catch (cause) {
    throw new PcapflowError('PCAPFLOW_PLUGIN_NOT_FOUND', `plugin package ${use} is not installed`, {
      cause, hint: `run \`npm install ${use}\` next to the topology file`,
    });
  }
}

export interface ResolveOptions {
  /** Semver range the topology asks for (`version:`). */
  range?: string;
  /** Where the request came from, for messages ("topology.yaml:12"). */
  where?: string;
}

/** Resolve, check and load a plugin package. Version checks happen before any plugin code runs. */
export function loadPlugin(use: string, fromDir: string, options: ResolveOptions = {}): LoadedPlugin {
  const dir = findPackageDir(use, fromDir);
  let pkg: PluginPackageJson;
  try { pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PluginPackageJson; }
  catch (cause) { throw new PcapflowError('PCAPFLOW_PLUGIN_INVALID', `cannot read ${dir}/package.json`, { cause }); }
  const name = pkg.name ?? use;
  const where = options.where ? ` (${options.where})` : '';
  if (!pkg.pcapflow?.plugin) {
    throw new PcapflowError('PCAPFLOW_PLUGIN_INVALID', `${name} is not a pcapflow plugin: its package.json has no "pcapflow": { "plugin": true }${where}`, {
      hint: 'add "pcapflow": { "plugin": true, "runtime": "^0.1.0" } to the plugin\'s package.json',
    });
  }
  const version = pkg.version ?? '0.0.0';
  if (options.range && !semver.satisfies(version, options.range, { includePrerelease: true })) {
    throw new PcapflowError('PCAPFLOW_PLUGIN_VERSION_MISMATCH',
      `the topology asks for ${name}@${options.range}${where} but ${version} is installed (${dir})`, {
        hint: `install a matching version (\`npm install ${name}@"${options.range}"\`) or change \`version:\` in the topology`,
        details: { installed: version, requested: options.range },
      });
  }
  const runtimeRange = pkg.pcapflow.runtime ?? '*';
  if (!semver.satisfies(RUNTIME_VERSION, runtimeRange, { includePrerelease: true })) {
    throw new PcapflowError('PCAPFLOW_PLUGIN_RUNTIME_MISMATCH',
      `${name}@${version} supports pcapflow runtime ${runtimeRange} but this runtime is ${RUNTIME_VERSION}${where}`, {
        hint: `install a version of ${name} built for runtime ${RUNTIME_VERSION}, or a @pcapflow/core in ${runtimeRange}`,
        details: { runtime: RUNTIME_VERSION, supported: runtimeRange },
      });
  }
  let mod: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(dir) as Record<string, unknown>;
  } catch (cause) {
    throw new PcapflowError('PCAPFLOW_PLUGIN_INVALID', `cannot load plugin ${name} from ${dir}: ${(cause as Error).message}`, {
      cause, hint: 'build the plugin package (its "main" must point at JavaScript)',
    });
  }
  const declaration = (mod.default ?? mod.plugin ?? mod) as PluginDeclaration | undefined;
  if (!declaration || typeof declaration.create !== 'function' || !declaration.config || typeof (declaration.config as { safeParse?: unknown }).safeParse !== 'function') {
    throw new PcapflowError('PCAPFLOW_PLUGIN_INVALID', `${name} does not export a plugin declaration`, {
      hint: 'export `definePlugin({...})` as the module, its default export, or `plugin`',
    });
  }
  return { declaration, use, packageName: name, version, runtimeRange, dir };
}

export interface InstalledPlugin { name: string; version: string; runtime: string; dir: string }

/** Plugins installed in node_modules folders above `fromDir` and the CLI (for `pcapflow plugins`). */
export function listInstalledPlugins(fromDir: string): InstalledPlugin[] {
  const found = new Map<string, InstalledPlugin>();
  const visit = (pkgDir: string) => {
    const pj = path.join(pkgDir, 'package.json');
    if (!existsSync(pj)) return;
    try {
      const pkg = JSON.parse(readFileSync(pj, 'utf8')) as PluginPackageJson;
      if (pkg.pcapflow?.plugin && pkg.name && !found.has(pkg.name)) {
        found.set(pkg.name, { name: pkg.name, version: pkg.version ?? '0.0.0', runtime: pkg.pcapflow.runtime ?? '*', dir: fs_realpath(pkgDir) });
      }
    } catch { /* not a readable package: not a plugin */ }
  };
  for (const start of new Set(searchPaths(fromDir))) {
    let dir = path.resolve(start);
    for (;;) {
      const nm = path.join(dir, 'node_modules');
      if (existsSync(nm)) {
        for (const entry of readdirSync(nm)) {
          if (entry.startsWith('.')) continue;
          const full = path.join(nm, entry);
          if (entry.startsWith('@')) { for (const sub of safeReaddir(full)) visit(path.join(full, sub)); }
          else visit(full);
        }
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function safeReaddir(dir: string): string[] {
  try { return statSync(dir).isDirectory() ? readdirSync(dir) : []; } catch { return []; }
}

function fs_realpath(p: string): string {
  try { return realpathSync(p); } catch { return p; }
}
