/**
 * `hybrid-migrate plan [collections...]` — this version shows the resolved mapping (where
 * each Prisma field comes from), the load order and how cycles are broken, the source
 * counts and the checkpoints of earlier runs. The full-scan assessment comes with the plan
 * issue.
 */
import type { Command } from 'commander';
import type { MappedCollection, MappedColumn } from '../../core/mapping.js';
import { readCheckpoints } from '../../target/state-store.js';
import { connect, loadSetup, type Setup } from '../context.js';
import type { CommandRuntime } from '../program.js';
import { formatInt, table } from '../render.js';

interface CollectionPlan {
  name: string;
  model: string;
  table: string;
  documents: number;
  checkpoints: { partitions: number; done: number; read: number; written: number; rejected: number };
  fields: { field: string; column: string; source: string }[];
  children: { model: string; from: string; fields: { field: string; source: string }[] }[];
}

function describeSource(c: MappedColumn): string {
  const s = c.source;
  switch (s.kind) {
    case 'id':
      return '_id → deterministic UUID';
    case 'value':
      return `${s.path.join('.')}${s.transform ? ' (transform)' : ''}`;
    case 'reference':
      return `${s.path.join('.')} → ${s.targetCollection}${s.deferred ? ' (second pass)' : ''}, missing: ${s.onMissing}`;
    case 'extra':
      return 'every unmapped source field (JSON)';
    case 'parent':
      return 'parent id';
    case 'position':
      return 'array position';
    case 'none':
      return 'not from source (database default)';
  }
}

async function planCollection(c: MappedCollection, setup: Setup, count: number, pool: import('pg').Pool): Promise<CollectionPlan> {
  void setup;
  const checkpoints = await readCheckpoints(pool, c.name).catch(() => []);
  return {
    name: c.name,
    model: c.model.name,
    table: c.model.table,
    documents: count,
    checkpoints: {
      partitions: checkpoints.length,
      done: checkpoints.filter((r) => r.status === 'done').length,
      read: checkpoints.reduce((n, r) => n + Number(r.docs_read), 0),
      written: checkpoints.reduce((n, r) => n + Number(r.docs_written), 0),
      rejected: checkpoints.reduce((n, r) => n + Number(r.docs_rejected), 0),
    },
    fields: c.columns.map((col) => ({ field: col.column.field, column: col.column.column, source: describeSource(col) })),
    children: c.children.map((ch) => ({
      model: ch.model.name,
      from: ch.label,
      fields: ch.columns.map((col) => ({ field: col.column.field, source: describeSource(col) })),
    })),
  };
}

export function registerPlan(program: Command, rt: CommandRuntime): void {
  program
    .command('plan')
    .summary('show what migrate will do, before anything is written')
    .description('Checks the configuration against the Prisma schema (exit 3 on any problem, all listed at once),\nthen shows, per collection, where each Prisma field comes from, the load order and the progress of earlier runs.')
    .argument('[collections...]', 'collections to assess (default: all configured)')
    .action(async (collections: string[]) => {
      const global = rt.global();
      const setup = await loadSetup(global, collections);
      const conns = await connect(rt.env, { ...global, command: 'plan', poolSize: 2 });
      try {
        const plans: CollectionPlan[] = [];
        for (const name of setup.collections) {
          const c = setup.mapping.collections.get(name) as MappedCollection;
          const count = await conns.mongo.db.collection(name).countDocuments();
          plans.push(await planCollection(c, setup, count, conns.pg.pool));
        }
        const result = {
          source: conns.mongo.serverVersion,
          target: conns.pg.display,
          loadOrder: setup.collections,
          deferred: setup.mapping.deferred,
          collections: plans,
        };
        if (global.json) {
          rt.stdout(`${JSON.stringify(result, null, 2)}\n`);
          return;
        }
        const out = [
          `Source ${result.source} → target ${result.target}`,
          `Load order: ${result.loadOrder.join(' → ')}`,
          ...result.deferred.map((d) => `Cycle broken: ${d.collection}.${d.field} → ${d.targetCollection} is written in a second pass`),
          '',
          table(
            ['collection', 'model', 'documents', 'migrated', 'rejected', 'ranges done'],
            plans.map((p) => [p.name, p.model, formatInt(p.documents), formatInt(p.checkpoints.written), formatInt(p.checkpoints.rejected), `${p.checkpoints.done}/${p.checkpoints.partitions}`]),
            ['l', 'l', 'r', 'r', 'r', 'r'],
          ),
        ];
        for (const p of plans) {
          out.push('', `${p.name} → ${p.model} (${p.table})`, ...p.fields.map((f) => `  ${f.field.padEnd(16)} ← ${f.source}`));
          for (const ch of p.children) out.push(`  ${ch.from}[] → ${ch.model}`, ...ch.fields.map((f) => `    ${f.field.padEnd(14)} ← ${f.source}`));
        }
        rt.stdout(`${out.join('\n')}\n`);
      } finally {
        await conns.close();
      }
    });
}
