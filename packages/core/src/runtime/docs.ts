import { z } from 'zod';
import type { PluginDeclaration } from '../plugin';
import { topologySchema } from '../topology/schema';

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/**
 * The JSON Schema of a topology file with each installed plugin's config schema attached to
 * instances that `use` it, so editors complete `config:` too.
 */
export function topologyJsonSchema(plugins: PluginDeclaration[]): Record<string, unknown> {
  const base = jsonSchemaOf(topologySchema);
  const props = base.properties as Record<string, Record<string, unknown>>;
  const instanceSchema = (props.instances!.additionalProperties ?? {}) as Record<string, unknown>;
  if (plugins.length) {
    const variants = plugins.map((p) => {
      const { $schema: _drop, ...config } = jsonSchemaOf(p.config);
      return {
        if: { properties: { use: { const: p.name } }, required: ['use'] },
        then: { properties: { config: { ...config, description: p.summary } } },
      };
    });
    props.instances!.additionalProperties = { ...instanceSchema, allOf: variants };
  }
  return { ...base, title: 'pcapflow topology', $id: 'https://pcapflow.dev/schema/topology.json' };
}

/** Markdown docs of one plugin, generated from its declaration. */
export function describePlugin(p: PluginDeclaration, version?: string): string {
  const lines: string[] = [`# ${p.name}${version ? ` ${version}` : ''}`, '', p.summary, ''];
  if (p.description) lines.push(p.description.trim(), '');
  const ports = (title: string, list: PluginDeclaration['inputs']) => {
    lines.push(`## ${title}`, '');
    if (!list.length) lines.push('(none)', '');
    for (const port of list) lines.push(`- \`${port.name}\`: ${port.description}${port.defaultSubject ? ` (default subject \`${port.defaultSubject}\`)` : ''}`);
    if (list.length) lines.push('');
  };
  ports('Inputs', p.inputs);
  ports('Outputs', p.outputs);
  lines.push('## Config', '');
  const schema = jsonSchemaOf(p.config);
  const walk = (s: Record<string, unknown>, prefix: string) => {
    const properties = (s.properties ?? {}) as Record<string, Record<string, unknown>>;
    const required = new Set((s.required as string[] | undefined) ?? []);
    for (const [k, v] of Object.entries(properties)) {
      const type = v.type ? String(v.type) : v.enum ? (v.enum as unknown[]).map((x) => JSON.stringify(x)).join(' | ') : v.anyOf ? 'one of several shapes' : 'any';
      const parts = [`- \`${prefix}${k}\` (${type}${required.has(k) && v.default === undefined ? ', required' : ''})`];
      if (v.description) parts.push(`: ${v.description}`);
      if (v.default !== undefined) parts.push(` Default: \`${JSON.stringify(v.default)}\`.`);
      if (Array.isArray(v.examples) && v.examples.length) parts.push(` Example: \`${JSON.stringify(v.examples[0])}\`.`);
      lines.push(parts.join(''));
      if (v.type === 'object' && v.properties) walk(v, `${prefix}${k}.`);
    }
  };
  walk(schema, '');
  lines.push('', '## JSON Schema of config', '', '```json', JSON.stringify(schema, null, 2), '```', '');
  return lines.join('\n');
}
