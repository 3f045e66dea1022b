// Stateless stream ops: split, filter, project. Records are emitted inside handle(), so the runtime
// publishes them with ids derived from the input message (a redelivery never duplicates them).
import type { Actor, ActorContext } from '@pcapflow/core';

type Forward = (output: string, record: Readonly<Record<string, unknown>>) => void;

/**
 * Split and filter pass input records on untouched (routes and filters only read them), so they
 * `forward` them: a message whose records all go to one subject is republished as it arrived,
 * not encoded again. Runtimes without `forward` get `emit`.
 */
function forwarder(ctx: ActorContext): Forward {
  return ctx.forward ? (o, r) => ctx.forward!(o, r) : (o, r) => ctx.emit(o, r as Record<string, unknown>);
}
import { compileFilter, compileProjection, compileRoutes } from '../engine';
import { compileExpression } from '../expr';
import type { FilterConfig, ProjectConfig, SplitConfig } from '../plugin';
import { fieldsRead } from './fields';

export function createSplitActor(ctx: ActorContext, c: SplitConfig): Actor {
  const route = compileRoutes(c.routes, { mode: c.mode, otherwise: c.otherwise });
  const routed = ctx.counter('routed');
  const unmatched = ctx.counter('unmatched');
  const forward = forwarder(ctx);
  // routes read only their predicates' fields; records go on whole (forward)
  const fields = fieldsRead(c.routes.map((r) => r.where));
  return {
    inputFields: () => fields,
    handle(batch) {
      const recs = batch.records;
      for (let i = 0; i < recs.length; i++) {
        const outs = route(recs[i]);
        if (outs.length === 0) unmatched.inc();
        for (let k = 0; k < outs.length; k++) forward(outs[k], recs[i]);
        routed.inc(outs.length);
      }
    },
    health: () => ({ ok: true, metrics: { routed: routed.value, unmatched: unmatched.value } }),
  };
}

export function createFilterActor(ctx: ActorContext, c: FilterConfig): Actor {
  const test = compileFilter(c.where);
  const passed = ctx.counter('passed');
  const rejected = ctx.counter('rejected');
  const forward = forwarder(ctx);
  const fields = fieldsRead([c.where]);
  return {
    inputFields: () => fields,
    handle(batch) {
      for (const r of batch.records) {
        if (test(r)) {
          forward('out', r);
          passed.inc();
        } else rejected.inc();
      }
    },
    health: () => ({ ok: true, metrics: { passed: passed.value, rejected: rejected.value } }),
  };
}

export function createProjectActor(ctx: ActorContext, c: ProjectConfig): Actor {
  const base = compileProjection({ select: c.select, rename: undefined, drop: undefined });
  const compute = Object.entries(c.compute ?? {}).map(([k, src]) => [k, compileExpression(src).evaluate] as const);
  const finish = compileProjection({ select: '*', rename: c.rename, drop: c.drop });
  const needFinish = (c.rename && Object.keys(c.rename).length > 0) || (c.drop && c.drop.length > 0);
  const where = c.where ? compileFilter(c.where) : undefined;
  const projected = ctx.counter('projected');
  return {
    handle(batch) {
      for (const r of batch.records) {
        if (where && !where(r)) continue;
        let o = base(r);
        // computed fields see the input record and the selected fields (selected fields win on name clashes in the input)
        if (compute.length) {
          const scope = { ...r, ...o };
          for (const [k, f] of compute) o[k] = f(scope);
        }
        if (needFinish) o = finish(o);
        ctx.emit('out', o);
        projected.inc();
      }
    },
    health: () => ({ ok: true, metrics: { projected: projected.value } }),
  };
}
