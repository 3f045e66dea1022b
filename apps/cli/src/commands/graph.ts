import { resolveTopology, subjectMatches, type ResolvedTopology } from '@pcapflow/core/runtime';
import { EXIT } from '../exit-codes';

/** Edges: producer instance --subject--> consumer instance, through the stream that stores it. */
export function edges(t: ResolvedTopology): Array<{ from: string; output: string; subject: string; stream: string; to: string; input: string }> {
  const out: Array<{ from: string; output: string; subject: string; stream: string; to: string; input: string }> = [];
  for (const p of t.instances) {
    for (const o of p.outputs) {
      const probe = o.template.source.replace(/\{[^}]*\}/g, 'x');
      const stream = t.streams.find((s) => s.subjects.some((x) => subjectMatches(x, probe)))?.name ?? '?';
      for (const c of t.instances) {
        for (const i of c.inputs) {
          if (subjectMatches(i.filter.replace('{partition}', '*'), probe) || subjectMatches(i.filter.replace('{partition}', 'x'), probe)) {
            out.push({ from: p.name, output: o.port, subject: o.template.source, stream, to: c.name, input: i.port });
          }
        }
      }
    }
  }
  return out;
}

export function graphCommand(file: string, format: string): number {
  const t = resolveTopology({ file });
  const es = edges(t);
  if (format === 'dot') {
    const lines = ['digraph pcapflow {', '  rankdir=LR;'];
    for (const i of t.instances) lines.push(`  "${i.name}" [shape=box, label="${i.name}\\n${i.plugin.packageName}@${i.plugin.version}${i.spec.instances > 1 ? `\\nx${i.spec.instances}` : ''}"];`);
    for (const e of es) lines.push(`  "${e.from}" -> "${e.to}" [label="${e.subject}\\n(${e.stream})"];`);
    lines.push('}');
    process.stdout.write(lines.join('\n') + '\n');
  } else if (format === 'mermaid') {
    const lines = ['flowchart LR'];
    for (const e of es) lines.push(`  ${e.from} -- "${e.subject}" --> ${e.to}`);
    process.stdout.write(lines.join('\n') + '\n');
  } else {
    for (const i of t.instances) {
      const where = i.spec.hosts?.length ? ` on ${i.spec.hosts.join(', ')}` : i.spec.labels?.length ? ` on hosts labelled ${i.spec.labels.join(', ')}` : '';
      process.stdout.write(`${i.name} (${i.plugin.packageName}@${i.plugin.version}${i.spec.instances > 1 ? `, ${i.spec.instances} partitions` : ''})${where}\n`);
      for (const inp of i.inputs) process.stdout.write(`  <- ${inp.port}: ${inp.filter} [${inp.stream}]\n`);
      for (const o of i.outputs) {
        const to = es.filter((e) => e.from === i.name && e.output === o.port).map((e) => `${e.to}.${e.input}`);
        process.stdout.write(`  -> ${o.port}: ${o.template.source}${to.length ? ` => ${to.join(', ')}` : ' (no consumer in this topology)'}\n`);
      }
      process.stdout.write(`  !! dead letters: ${i.deadLetter}\n`);
    }
  }
  return EXIT.OK;
}
