import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parse as parseYaml, parseDocument, Scalar, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { PcapflowError } from '../errors';
import { topologySchema, type Topology } from './schema';

export interface SourcePosition { file: string; line: number; column: number }

export interface TopologyIssue {
  file: string;
  line: number;
  column: number;
  /** Path inside the document, e.g. instances.capture.config.snaplen */
  path: string;
  message: string;
}

/** A parsed topology file, keeping the YAML document so later checks can point at lines. */
export class TopologySource {
  constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    readonly value: unknown,
  ) {}

  /** Line and column of the node at `path`, or of its nearest existing parent. */
  position(path: ReadonlyArray<PropertyKey>): SourcePosition {
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) {
        const { line, col } = this.lines.linePos(node.range[0]);
        return { file: this.file, line, column: col };
      }
    }
    return { file: this.file, line: 1, column: 1 };
  }

  /** Position of a mapping key itself (for "unknown key" errors), not of its value. */
  keyPosition(path: ReadonlyArray<PropertyKey>): SourcePosition {
    const parent = this.doc.getIn(path.slice(0, -1) as unknown[], true);
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(path[path.length - 1]));
      const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
      if (range) { const { line, col } = this.lines.linePos(range[0]); return { file: this.file, line, column: col }; }
    }
    return this.position(path);
  }

  issue(path: ReadonlyArray<PropertyKey>, message: string): TopologyIssue {
    const pos = this.position(path);
    return { ...pos, path: path.map(String).join('.') || '(root)', message };
  }

  /** Map zod issues (relative to `base`) to positioned topology issues. */
  zodIssues(error: z.ZodError, base: ReadonlyArray<PropertyKey> = []): TopologyIssue[] {
    return error.issues.flatMap((i) => {
      const path = [...base, ...i.path];
      let message = i.message;
      if (i.code === 'unrecognized_keys') {
        const keys = (i as { keys: string[] }).keys;
        return keys.map((k) => ({ ...this.keyPosition([...path, k]), path: [...path, k].map(String).join('.'), message: `unknown key "${k}"` }));
      }
      if (i.code === 'invalid_type' && /received undefined/.test(message)) message = `required: ${message.replace(/, received undefined/, '')}`;
      return [this.issue(path, message)];
    });
  }
}

export function formatIssues(issues: TopologyIssue[]): string {
  return issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.path}: ${i.message}`).join('\n');
}

export function topologyError(issues: TopologyIssue[]): PcapflowError {
  return new PcapflowError('PCAPFLOW_TOPOLOGY_INVALID', `invalid topology:\n${formatIssues(issues)}`, {
    hint: 'fix the fields named above; `pcapflow schema` prints the JSON Schema your editor can use to complete topology files',
    details: { issues },
  });
}

/**
 * Parse YAML text, substituting ${VAR} and ${VAR:-default} inside string scalars (so positions
 * stay those of the file), and validate the runtime part of the topology.
 */
export function parseTopology(text: string, file = '<topology>', env: NodeJS.ProcessEnv = process.env): { source: TopologySource; topology: Topology } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntaxIssues: TopologyIssue[] = doc.errors.map((e) => {
    const { line, col } = lines.linePos(e.pos[0]);
    return { file, line, column: col, path: '(yaml)', message: e.message.split('\n')[0]! };
  });
  if (syntaxIssues.length) throw topologyError(syntaxIssues);

  const envIssues: TopologyIssue[] = [];
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const whole = /^\$\{[^}]*\}$/.test(node.value) && node.type === Scalar.PLAIN;
      node.value = node.value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, def?: string) => {
        const v = env[name];
        if (v !== undefined && v !== '') return v;
        if (def !== undefined) return def;
        const { line, col } = lines.linePos(node.range?.[0] ?? 0);
        envIssues.push({ file, line, column: col, path: '(env)', message: `environment variable ${name} is not set (write \${${name}:-default} for a default)` });
        return '';
      });
      // `count: ${COUNT}` (plain, the whole value) takes the type the value has in YAML: 7 is a number.
      if (whole) { try { const v = parseYaml(node.value as string); if (v === null || ['number', 'boolean'].includes(typeof v)) node.value = v; } catch { /* stays a string */ } }
    },
  });
  if (envIssues.length) {
    throw new PcapflowError('PCAPFLOW_TOPOLOGY_ENV', `invalid topology:\n${formatIssues(envIssues)}`, {
      hint: 'export the variable, or give it a default with ${NAME:-value}', details: { issues: envIssues },
    });
  }
  const value = doc.toJS();
  const source = new TopologySource(file, doc, lines, value);
  if (value === null || typeof value !== 'object') throw topologyError([source.issue([], 'a topology is a YAML mapping with `instances:`')]);
  const parsed = topologySchema.safeParse(value);
  if (!parsed.success) throw topologyError(source.zodIssues(parsed.error));
  return { source, topology: parsed.data };
}

export function loadTopologyFile(file: string, env: NodeJS.ProcessEnv = process.env): { source: TopologySource; topology: Topology } {
  let text: string;
  try { text = readFileSync(file, 'utf8'); }
  catch (cause) {
    throw new PcapflowError('PCAPFLOW_TOPOLOGY_READ', `cannot read topology ${file}`, { cause, hint: 'check the path' });
  }
  return parseTopology(text, file, env);
}
