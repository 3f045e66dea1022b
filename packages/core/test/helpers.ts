import path from 'node:path';

export const EXAMPLES = path.resolve(__dirname, '../../../examples');

/** A topology running the example generator into the example counter. */
export function counterTopology(o: { count: number; keys?: number; counter?: string; generator?: string; consumer?: string; partitions?: number; instances?: number }): string {
  const partitioned = o.instances && o.instances > 1;
  return `
streams:
  EVENTS: { subjects: ["t.events.>"], storage: memory }
  TOTALS: { subjects: ["t.totals.>"], storage: memory }
instances:
  generator:
    use: ./plugins/generator
    config: { count: ${o.count}, keys: ${o.keys ?? 8}${o.generator ? `, ${o.generator}` : ''} }
    outputs:
      out: { subject: "t.events.p{key%${o.partitions ?? 4}}", batch: 50 }
  counter:
    use: ./plugins/counter
    ${partitioned ? `instances: ${o.instances}` : ''}
    config: { bucket: "counts"${o.counter ? `, ${o.counter}` : ''} }
    inputs:
      in: ${partitioned ? `{ subject: "t.events.p{partition}", partitions: ${o.partitions ?? 4} }` : '"t.events.>"'}
    outputs:
      totals: "t.totals.{key}"
    ${o.consumer ? `consumer: ${o.consumer}` : ''}
`;
}
