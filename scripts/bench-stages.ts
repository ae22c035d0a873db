/**
 * `node dist/scripts/bench-stages.js [--scale 20000] [--orders 20000] [--explain]`: where the
 * write path's time goes, batch by batch, with nothing overlapping (one connection, one batch
 * at a time) so each stage's cost is its own:
 *
 *   decode   BSON → objects (the documents built in memory, serialized once, deserialized here)
 *   convert  conversion in Node (convertBatch)
 *   settle   the batch's reference lookups (Node side) and settling (settleConverted)
 *   write    Node's CPU inside writeBatch (COPY lines, hashes) and, per statement, the wall time
 *            and the CPU of the PostgreSQL backend (read from /proc/<pid>/stat)
 *
 * With --explain, the registry and child-rows statements of one batch are run under
 * EXPLAIN (ANALYZE, BUFFERS) instead (same effect), and their plans printed. With --no-fk, the
 * connection runs with session_replication_role = replica (no foreign-key triggers: superuser
 * only, a measure of what the FK checks cost the COPY, never what migrate does). Starts its own
 * FerretDB (the parents must exist in PostgreSQL for the orders' references) and uses the
 * local PostgreSQL. A measuring tool, not part of the test command.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BSON, MongoClient, type Document } from 'mongodb';
import pg from 'pg';
import { spawn } from 'node:child_process';
import { applyPrismaMigrations, startLocalServers } from '../dev/servers/index.js';
import { generateFixtures } from '../dev/fixtures/generate.js';
import { BUILDERS, Ctx, makePlan } from '../dev/fixtures/build.js';
import { loadConfig } from '../src/config/load-config.js';
import { resolveMapping } from '../src/config/resolve-mapping.js';
import { loadPrismaSchema } from '../src/schema/prisma-schema.js';
import { EXACT_READ_OPTIONS } from '../src/source/mongo-source.js';
import { writeBatch, writePlanFor } from '../src/target/batch-writer.js';
import { ensureStateSchema, stateTable } from '../src/state/schema.js';
import { convertBatch, newTiming, settleConverted } from '../src/pipeline/settle-batch.js';
import { ReferenceIndex } from '../src/pipeline/reference-index.js';
import type { MappedCollection } from '../src/core/mapping.js';
import { processCpu } from './bench-cpu.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const log = (s: string) => process.stderr.write(`[stages] ${s}\n`);
const cpuS = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

interface StatementCost {
  calls: number;
  wallMs: number;
  pgCpuS: number;
}

/** Wraps client.query: each statement's wall time and its backend's CPU, keyed by the statement's first words. */
function instrument(client: pg.PoolClient, backend: number, costs: Map<string, StatementCost>, explain: { on: boolean; plans: string[] }): void {
  const original = client.query.bind(client) as (...a: unknown[]) => unknown;
  const add = (key: string, t0: number, c0: number) => {
    const c = costs.get(key) ?? { calls: 0, wallMs: 0, pgCpuS: 0 };
    c.calls++;
    c.wallMs += performance.now() - t0;
    c.pgCpuS += processCpu(backend) - c0;
    costs.set(key, c);
  };
  (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
    const first = args[0];
    // pool.query's own calls (callback style: the reference lookups) pass through untimed.
    if (typeof args[args.length - 1] === 'function') return original(...args);
    const t0 = performance.now();
    const c0 = processCpu(backend);
    if (typeof first !== 'string') {
      // A COPY stream: done when it finishes.
      const stream = original(...args) as NodeJS.EventEmitter & { text?: string };
      const key = `COPY ${/COPY (\S+)/.exec(String((first as { text?: string }).text ?? ''))?.[1] ?? ''}`;
      stream.on('finish', () => add(key, t0, c0));
      return stream;
    }
    const key = statementKey(first);
    if (explain.on && (key.startsWith('INSERT INTO "hybrid_migrate"."id_map"') || key.startsWith('WITH c AS') || key.startsWith('SELECT x.parent'))) {
      explain.on = false;
      return (async () => {
        const plan = (await original(`EXPLAIN (ANALYZE, BUFFERS) ${first}`, args[1])) as { rows: { 'QUERY PLAN': string }[] };
        // The batch's id arrays, shortened: the plan is what matters.
        explain.plans.push(`${key}\n${plan.rows.map((r) => r['QUERY PLAN'].replace(/'\{[^}]{200,}\}'/g, "'{…}'")).join('\n')}`);
        explain.on = true;
        if (!key.startsWith('SELECT')) return { rows: [], rowCount: 0 };
        return original(...args);
      })();
    }
    const p = original(...args) as Promise<unknown>;
    return p.then((r) => {
      add(key, t0, c0);
      return r;
    });
  };
}

function statementKey(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim().slice(0, 48);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { scale: { type: 'string', default: '20000' }, orders: { type: 'string', default: '20000' }, batch: { type: 'string', default: '5000' }, explain: { type: 'boolean', default: false }, 'no-fk': { type: 'boolean', default: false } } });
  const scale = Number(values.scale);
  const orders = Math.min(scale, Number(values.orders));
  const batchSize = Number(values.batch);
  const servers = await startLocalServers({ env: { ...process.env, MONGO_URI: undefined, DATABASE_URL: undefined }, log });
  const admin = new pg.Pool({ connectionString: servers.databaseUrl, max: 1 });
  const mongo = new MongoClient(servers.mongoUri);
  await mongo.connect();
  const db = mongo.db(`stages_${scale}`);
  const name = `bench_stages_${process.pid}`;
  try {
    await db.dropDatabase();
    await generateFixtures({ db, scale, seed: 42, realMongo: false });
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(servers.databaseUrl);
    url.pathname = `/${name}`;
    await applyPrismaMigrations(url.toString());
    log('migrating the parents (not measured)');
    await new Promise<void>((resolve, reject) => {
      const c = spawn(process.execPath, [`${root}/bin/hybrid-migrate`, 'migrate', 'workspaces', 'users', 'products', 'clients'], {
        env: { ...process.env, MONGO_URI: `${servers.mongoUri.replace('/?', `/stages_${scale}?`)}`, DATABASE_URL: url.toString() },
        stdio: 'ignore',
      });
      c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`parents: exit ${code}`))));
    });
    const loaded = await loadConfig(undefined, root);
    const { mapping } = resolveMapping(loaded.config, await loadPrismaSchema(`${root}/prisma/schema.prisma`));
    const collection = mapping.collections.get('orders') as MappedCollection;
    const plan = writePlanFor(collection);
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    await ensureStateSchema(pool);
    await pool.query(`INSERT INTO ${stateTable('checkpoints')} (collection, partition, mode, mapping_fingerprint) VALUES ('orders', 0, 'fresh', 'stages')`);
    const client = await pool.connect();
    const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid as number;
    if (values['no-fk']) await client.query('SET session_replication_role = replica');
    const costs = new Map<string, StatementCost>();
    const explain = { on: values.explain ?? false, plans: [] as string[] };
    instrument(client, backend, costs, explain);
    client.release();
    const references = new ReferenceIndex(mapping, { target: pool });
    const ctx = new Ctx(makePlan(scale), 42, false);
    const stage = { decode: 0, convert: 0, settle: 0, write: 0, writeWall: 0 };
    const wall0 = performance.now();
    for (let i = 0; i < orders; i += batchSize) {
      const raws: Uint8Array[] = [];
      for (let j = i; j < Math.min(orders, i + batchSize); j++) raws.push(BSON.serialize(BUILDERS.orders(ctx, j)));
      let c0 = process.cpuUsage();
      const docs: Document[] = raws.map((b) => BSON.deserialize(b, EXACT_READ_OPTIONS));
      stage.decode += cpuS(process.cpuUsage(c0));
      c0 = process.cpuUsage();
      const steps = { references, timing: newTiming(), deferred: 'second-pass' as const };
      const converted = convertBatch(collection, docs, steps);
      stage.convert += cpuS(process.cpuUsage(c0));
      c0 = process.cpuUsage();
      const settled = await settleConverted(collection, converted, steps);
      stage.settle += cpuS(process.cpuUsage(c0));
      c0 = process.cpuUsage();
      const w0 = performance.now();
      await writeBatch(pool, plan, '00000000-0000-4000-8000-000000000000', {
        docs: settled.docs,
        rejects: settled.rejects,
        progress: async (c, done) => {
          await c.query(`UPDATE ${stateTable('checkpoints')} SET docs_written = docs_written + $1 WHERE collection = 'orders' AND partition = 0`, [done.written]);
        },
      }, { mode: 'fresh', onConflict: 'skip' });
      stage.write += cpuS(process.cpuUsage(c0));
      stage.writeWall += performance.now() - w0;
    }
    const wall = performance.now() - wall0;
    const per = (s: number) => ((s * 1000) / orders).toFixed(3);
    const out = [
      `${orders} orders, batches of ${batchSize}, one connection, nothing overlapping; wall ${(wall / 1000).toFixed(1)} s`,
      '',
      '| stage | Node CPU-s / 1k docs |',
      '|---|---:|',
      `| decode (BSON.deserialize) | ${per(stage.decode)} |`,
      `| convert (convertBatch: convertDocument per document) | ${per(stage.convert)} |`,
      `| settle (reference lookups' Node side, settleReferences) | ${per(stage.settle)} |`,
      `| write (Node side of writeBatch: COPY lines, hashes, protocol) | ${per(stage.write)} |`,
      `| write wall (s / 1k docs) | ${per(stage.writeWall / 1000)} |`,
      '',
      '| statement | calls | wall s / 1k docs | PostgreSQL backend CPU-s / 1k docs |',
      '|---|---:|---:|---:|',
      ...[...costs].sort((a, b) => b[1].wallMs - a[1].wallMs).map(([k, c]) => `| \`${k.replace(/\|/g, '\\|')}\` | ${c.calls} | ${per(c.wallMs / 1000)} | ${per(c.pgCpuS)} |`),
      '',
      ...explain.plans.map((p) => `\`\`\`\n${p}\n\`\`\``),
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    await pool.end();
  } finally {
    await mongo.close().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    await servers.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-stages failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
