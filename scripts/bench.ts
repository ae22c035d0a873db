/**
 * `npm run bench [-- --scale 1000000]`: the speed and memory of `migrate`, measured side by
 * side in ONE run on the same machine and the same generated data, as ratios (these machines
 * are noisy: absolute numbers move, ratios much less). Not part of the test command.
 *
 *   S  the raw source drain rate: the driver reading the orders, decoded, doing nothing else
 *   B  the baseline peer: the driver draining the orders and COPYing each document as one jsonb
 *      column into a scratch table (the simplest copy, the ceiling of any tool on this machine)
 *   P  the raw PostgreSQL COPY rate of the same rows (pre-encoded) into the same tables
 *   T  `hybrid-migrate migrate orders` end to end (CLI, checkpoints on), peak RSS sampled
 *   Ts T with an in-process synthetic source (the same documents built in memory): the write side alone
 *   N  the customer's approach, `prisma.order.create` per document, and Prisma `createMany`, on slices
 *   R  the cost of resuming after a kill -9 at 50%
 *
 * It starts its own FerretDB unless `--mongo-uri URI` names a MongoDB-class server (the data is
 * generated into a `bench_*` database there), uses the local PostgreSQL (never MONGO_URI /
 * DATABASE_URL), and prints a Markdown report: rates, ratios, and the CPU seconds per 1,000
 * documents of the tool's process, of PostgreSQL's backends and of the source server when it
 * runs on this machine (the process listening on the URI's port, or `--source-pid`, with its
 * descendants).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createJiti } from 'jiti';
import { MongoClient, type Document } from 'mongodb';
import pg from 'pg';
import { applyPrismaMigrations, startLocalServers } from '../dev/servers/index.js';
import { BackendCpu, listeningPid, processCpu, reapedChildrenCpu, SourceCpu } from './bench-cpu.js';
import { jsonbCopy } from './bench-baseline.js';
import { generateFixtures } from '../dev/fixtures/generate.js';
import { BUILDERS, Ctx, makePlan } from '../dev/fixtures/build.js';
import { loadConfig } from '../src/config/load-config.js';
import { resolveMapping } from '../src/config/resolve-mapping.js';
import { loadPrismaSchema } from '../src/schema/prisma-schema.js';
import { convertDocument, settleReferences, type ConvertedDocument } from '../src/core/transform.js';
import { EXACT_READ_OPTIONS, type RawBatch } from '../src/source/mongo-source.js';
import { writePlanFor } from '../src/target/batch-writer.js';
import { copyLine, copyRows } from '../src/target/copy.js';
import { ensureStateSchema, stateTable } from '../src/state/schema.js';
import { CollectionStats } from '../src/pipeline/batch-pipeline.js';
import { migrateBatches } from '../src/use-cases/migrate/range-worker.js';
import { ReferenceIndex } from '../src/pipeline/reference-index.js';
import type { MappedCollection } from '../src/core/mapping.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = `${root}/bin/hybrid-migrate`;
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);
const rate = (n: number, ms: number) => (n * 1000) / ms;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Timed {
  docs: number;
  ms: number;
}

/** Each figure is logged as soon as it is measured, so a run stopped part-way still tells something. */
function measured(name: string, t: Timed): void {
  log(`${name}: ${fmt(t.docs)} documents in ${(t.ms / 1000).toFixed(1)} s = ${fmt(rate(t.docs, t.ms))} docs/s`);
}

function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Runs the CLI; samples its peak RSS (VmHWM) from /proc while it runs; optionally kills it when `killWhen` says so. */
async function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
  killWhen?: () => Promise<boolean>,
  okCodes: readonly number[] = [0],
  program: string = bin,
): Promise<{ code: number | null; stdout: string; ms: number; peakRssMb: number; killed: boolean }> {
  const started = performance.now();
  const child = spawn(process.execPath, [program, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let peakKb = 0;
  let killed = false;
  const sampler = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      /* exited */
    }
    if (killWhen && !killed) {
      void killWhen().then((yes) => {
        if (yes && !killed) {
          killed = true;
          child.kill('SIGKILL');
        }
      });
    }
  }, 200);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearInterval(sampler);
  if (!okCodes.includes(code ?? -1) && !killed) throw new Error(`hybrid-migrate ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`);
  return { code, stdout, ms: performance.now() - started, peakRssMb: peakKb / 1024, killed };
}

const USAGE = `Usage: npm run bench -- [options]   (or: node dist/scripts/bench.js [options])

Measures migrate side by side with the simplest copies of the same generated orders, in one
run, and prints a Markdown report of rates, ratios, CPU per 1,000 documents and peak RSS.

  --scale N              orders generated (default 1000000)
  --seed N               data seed (default 42)
  --copy-slice N         orders in P, the raw COPY (default 200000)
  --create-slice N       orders in Prisma create per document (default 2000)
  --createmany-slice N   orders in Prisma createMany (default 20000)
  --mongo-uri URI        a MongoDB-class server instead of the FerretDB the bench starts
  --source-pid PID       the source server's local processes whose CPU is counted (repeatable)
  --source-analyze URL   DocumentDB's PostgreSQL, ANALYZEd after the data is loaded
  --compare-bin PATH     another build's bin/hybrid-migrate, measured as T0 in the same run
  --variant "FLAGS"      extra migrate flags, each measured as T1, T2… (repeatable)
  --skip-resume, --skip-capped, --skip-verify, --skip-detect-changes
                         leave out the long measures
  -h, --help             this text`;

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        help: { type: 'boolean', short: 'h', default: false },
        scale: { type: 'string', default: '1000000' },
        seed: { type: 'string', default: '42' },
        'copy-slice': { type: 'string', default: '200000' },
        'create-slice': { type: 'string', default: '2000' },
        'createmany-slice': { type: 'string', default: '20000' },
        // Long runs at 1M orders: the resume and no-budget measures each cost a full migration.
        'skip-resume': { type: 'boolean', default: false },
        'skip-capped': { type: 'boolean', default: false },
        'skip-verify': { type: 'boolean', default: false },
        'skip-detect-changes': { type: 'boolean', default: false },
        // A MongoDB-class server instead of the FerretDB the bench starts (see BENCHMARKS.md).
        'mongo-uri': { type: 'string' },
        // The source server's local processes whose CPU is counted (default: the one listening on the URI's port).
        'source-pid': { type: 'string', multiple: true },
        // DocumentDB: the PostgreSQL behind the MongoDB-class server, ANALYZEd after the data is loaded (its statistics lag a bulk load).
        'source-analyze': { type: 'string' },
        // Another build of the tool (its bin/hybrid-migrate), measured as T0 in the same run: before/after figures side by side.
        'compare-bin': { type: 'string' },
        // Extra flags for migrate, each measured as T1, T2… with this build (e.g. --variant "--concurrency 1").
        variant: { type: 'string', multiple: true },
      },
    });
  } catch (e) {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}\n`);
    process.exit(2);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const scale = Number(values.scale);
  const seed = Number(values.seed);
  const copySlice = Math.min(scale, Number(values['copy-slice']));
  const createSlice = Math.min(scale, Number(values['create-slice']));
  const createManySlice = Math.min(scale, Number(values['createmany-slice']));

  const servers = await startLocalServers({ env: { ...process.env, MONGO_URI: values['mongo-uri'], DATABASE_URL: undefined }, log });
  // A pool, not one client: a dropped admin connection (another process's DROP DATABASE … FORCE) is simply replaced.
  const admin = new pg.Pool({ connectionString: servers.databaseUrl, max: 1 });
  admin.on('error', () => undefined);
  const mongo = new MongoClient(servers.mongoUri);
  await mongo.connect();
  const dbName = `bench_${scale}_${seed}`;
  const db = mongo.db(dbName);
  const results: string[] = [];
  const sourceVersion = await describeSource(mongo);
  const sourcePids = values['source-pid']?.map(Number) ?? localPidOf(servers.mongoUri);
  const sourceCpu = new SourceCpu(sourcePids);
  log(`source: ${sourceVersion}; its CPU ${sourceCpu.local ? `counted from pid ${sourcePids.join(', ')}` : 'not counted (not a local process)'}`);
  const cpu: Record<string, Cpu> = {};
  try {
    // ---- data ------------------------------------------------------------------------------
    log(`generating ${fmt(scale)} orders (+ clients, products, users…) in the source`);
    await db.dropDatabase();
    const gen = await generateFixtures({ db, scale, seed, realMongo: false });
    const orders = gen.counts.orders ?? scale;
    log(`generated ${fmt(Object.values(gen.counts).reduce((a, b) => a + b, 0))} documents in ${(gen.durationMs / 1000).toFixed(0)} s`);
    if (values['source-analyze']) {
      const sourcePg = new pg.Client({ connectionString: values['source-analyze'] });
      await sourcePg.connect();
      await sourcePg.query('ANALYZE');
      await sourcePg.end();
      log("ANALYZEd the source's PostgreSQL");
    }

    const loaded = await loadConfig(undefined, root);
    const schema = await loadPrismaSchema(`${root}/prisma/schema.prisma`);
    const { mapping } = resolveMapping(loaded.config, schema);
    const ordersMapping = mapping.collections.get('orders') as MappedCollection;

    // Parents, migrated once into a template every measured database is cloned from.
    const tpl = `bench_tpl_${process.pid}`;
    await admin.query(`DROP DATABASE IF EXISTS ${tpl} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${tpl}`);
    await applyPrismaMigrations(withDb(servers.databaseUrl, tpl));
    const env = { ...process.env, MONGO_URI: withDb(servers.mongoUri, dbName), DATABASE_URL: withDb(servers.databaseUrl, tpl) };
    log('migrating the parent collections (not measured)');
    await cli(['migrate', 'workspaces', 'users', 'products', 'clients'], env);
    const clone = async (name: string) => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${tpl}`);
      return withDb(servers.databaseUrl, name);
    };

    // ---- S: source drain ------------------------------------------------------------------
    log('S: draining orders with the driver');
    const s0 = performance.now();
    const sSrc0 = sourceCpu.read();
    const sNode0 = process.cpuUsage();
    let drained = 0;
    for await (const d of db.collection('orders').find({}, { sort: { _id: 1 }, batchSize: 5000, ...EXACT_READ_OPTIONS })) if (d) drained++;
    const S: Timed = { docs: drained, ms: performance.now() - s0 };
    cpu.S = { node: cpuSeconds(process.cpuUsage(sNode0)), pg: 0, source: sourceCpu.read() - sSrc0 };
    measured('S', S);

    // ---- B: the baseline peer, the simplest copy --------------------------------------------
    log('B: driver + COPY of each document as one jsonb column');
    const bSrc0 = sourceCpu.read();
    const bOut = await jsonbCopy(db, 'orders', await clone(`bench_b_${process.pid}`), processCpu);
    const B: Timed = { docs: bOut.docs, ms: bOut.ms };
    cpu.B = { node: bOut.nodeCpuS, pg: bOut.pgCpuS, source: sourceCpu.read() - bSrc0 };
    measured('B', B);

    // ---- T: migrate end to end ------------------------------------------------------------
    log('T: hybrid-migrate migrate orders');
    const tUrl = await clone(`bench_t_${process.pid}`);
    const tPg = new BackendCpu(admin, `bench_t_${process.pid}`);
    await tPg.start();
    const tSrc0 = sourceCpu.read();
    const tNode0 = reapedChildrenCpu();
    const t = await cli(['migrate', 'orders', '--json'], { ...env, DATABASE_URL: tUrl });
    cpu.T = { node: reapedChildrenCpu() - tNode0, pg: await tPg.stop(), source: sourceCpu.read() - tSrc0 };
    const tOut = JSON.parse(t.stdout) as { collections: { read: number; migrated: number; rejected: number; timings: { sourceWaitMs: number; convertMs: number; writeMs: number } }[] };
    const tTimings = tOut.collections[0]?.timings;
    const T: Timed = { docs: tOut.collections[0]?.read ?? 0, ms: t.ms };
    measured('T', T);

    // ---- T0, T1…: other builds or flags, measured in the same run (before/after side by side) --
    const extraRuns: { name: string; label: string; program: string; args: string[] }[] = [
      ...(values['compare-bin'] ? [{ name: 'T0', label: `the same with ${values['compare-bin']}`, program: values['compare-bin'], args: [] }] : []),
      ...(values.variant ?? []).map((v, i) => ({ name: `T${i + 1}`, label: `the same with \`${v}\``, program: bin, args: v.split(/\s+/).filter(Boolean) })),
    ];
    const extra: (Timed & { name: string; label: string; peakRssMb: number })[] = [];
    for (const run of extraRuns) {
      log(`${run.name}: ${run.label}`);
      const db = `bench_${run.name.toLowerCase()}_${process.pid}`;
      const url = await clone(db);
      const backends = new BackendCpu(admin, db);
      await backends.start();
      const src0 = sourceCpu.read();
      const node0 = reapedChildrenCpu();
      try {
        const r = await cli(['migrate', 'orders', '--json', ...run.args], { ...env, DATABASE_URL: url }, undefined, [0], run.program);
        cpu[run.name] = { node: reapedChildrenCpu() - node0, pg: await backends.stop(), source: sourceCpu.read() - src0 };
        const out = JSON.parse(r.stdout) as { collections: { read: number }[] };
        extra.push({ name: run.name, label: run.label, docs: out.collections[0]?.read ?? 0, ms: r.ms, peakRssMb: r.peakRssMb });
        measured(run.name, extra[extra.length - 1] as Timed);
      } catch (e) {
        await backends.stop();
        log(`${run.name} failed, left out of the report: ${e instanceof Error ? e.message.slice(0, 500) : String(e)}`);
      }
    }

    /** A CLI run on T's database; its CPU (the CLI, PostgreSQL's backends, the source) recorded as `name`. */
    const cliOnT = async (name: string, args: string[], codes?: number[]) => {
      const backends = new BackendCpu(admin, `bench_t_${process.pid}`);
      await backends.start();
      const src0 = sourceCpu.read();
      const node0 = reapedChildrenCpu();
      const r = await cli(args, { ...env, DATABASE_URL: tUrl }, undefined, codes);
      cpu[name] = { node: reapedChildrenCpu() - node0, pg: await backends.stop(), source: sourceCpu.read() - src0 };
      return r;
    };

    // ---- V: verify what T wrote ------------------------------------------------------------
    let verified: { V: Timed; ok: boolean; differences: unknown; peakRssMb: number } | undefined;
    if (!values['skip-verify']) {
      log('V: hybrid-migrate verify orders');
      const v = await cliOnT('V', ['verify', 'orders', '--json', '--no-report'], [0, 1]);
      const vOut = JSON.parse(v.stdout) as { ok: boolean; collections: { source: number; mismatched: number; missing: number; extra: number }[] };
      verified = { V: { docs: vOut.collections[0]?.source ?? 0, ms: v.ms }, ok: vOut.ok, differences: vOut.collections[0], peakRssMb: v.peakRssMb };
      measured('V', verified.V);
    }

    // ---- D: the change-detecting pass over what T wrote (nothing changed: every document read, converted, hashed) --
    let detected: Timed | undefined;
    if (!values['skip-detect-changes']) {
      log('D: hybrid-migrate migrate orders --incremental --detect-changes');
      const d = await cliOnT('D', ['migrate', 'orders', '--incremental', '--detect-changes', '--json']);
      const dOut = JSON.parse(d.stdout) as { changeDetection?: { collections: { read: number }[] } };
      detected = { docs: dOut.changeDetection?.collections[0]?.read ?? 0, ms: d.ms };
      measured('D', detected);
    }

    // The same run without --memory-budget (Node's heap policy alone): what the budget saves.
    let tCapped: Awaited<ReturnType<typeof cli>> | undefined;
    if (!values['skip-capped']) {
      log('T again with --memory-budget 0');
      const tcUrl = await clone(`bench_tc_${process.pid}`);
      tCapped = await cli(['migrate', 'orders', '--json', '--memory-budget', '0'], { ...env, DATABASE_URL: tcUrl });
    }

    // ---- R: resume after kill -9 at 50% ---------------------------------------------------
    let resume: { committed: number; resumedRead: number; r1Ms: number; r2Ms: number } | undefined;
    if (!values['skip-resume']) {
      log('R: kill -9 at 50%, then resume');
      const rUrl = await clone(`bench_r_${process.pid}`);
      const rPool = new pg.Pool({ connectionString: rUrl, max: 1 });
      rPool.on('error', () => undefined);
      const half = async () => {
        const r = await rPool.query<{ n: string | null }>(`SELECT sum(docs_read)::text AS n FROM ${stateTable('checkpoints')} WHERE collection = 'orders'`).catch(() => ({ rows: [{ n: null }] }));
        return Number(r.rows[0]?.n ?? 0) >= orders / 2;
      };
      const r1 = await cli(['migrate', 'orders', '--json'], { ...env, DATABASE_URL: rUrl }, half);
      const committed = Number((await rPool.query(`SELECT sum(docs_read)::text AS n FROM ${stateTable('checkpoints')} WHERE collection = 'orders'`)).rows[0]?.n ?? 0);
      const r2 = await cli(['migrate', 'orders', '--json'], { ...env, DATABASE_URL: rUrl });
      const r2Out = JSON.parse(r2.stdout) as { collections: { read: number }[] };
      resume = { committed, resumedRead: r2Out.collections[0]?.read ?? 0, r1Ms: r1.ms, r2Ms: r2.ms };
      await rPool.end();
    }

    // ---- pre-encoded rows for P -------------------------------------------------------------
    log(`encoding ${fmt(copySlice)} orders for P`);
    const pUrl = await clone(`bench_p_${process.pid}`);
    const pPool = new pg.Pool({ connectionString: pUrl, max: 2 });
    pPool.on('error', () => undefined);
    const pRefs = new ReferenceIndex(mapping, { target: pPool });
    const plan = writePlanFor(ordersMapping);
    const encoded: { main: string[]; children: string[][] }[] = [];
    let batch = { main: [] as string[], children: plan.children.map(() => [] as string[]) };
    let encodedDocs = 0;
    const source = db.collection('orders').find({}, { sort: { _id: 1 }, batchSize: 5000, limit: copySlice, ...EXACT_READ_OPTIONS });
    let page: Document[] = [];
    const encodePage = async () => {
      const converted = page.map((d) => convertDocument(ordersMapping, d)).flatMap((r) => (r.ok ? [r.doc] : []));
      await pRefs.load(converted);
      for (const doc of converted) {
        if (!settleReferences(doc, (c, u) => pRefs.exists(c, u), () => false, () => undefined).ok) continue;
        for (const row of doc.rows) (row.child === null ? batch.main : (batch.children[row.child] as string[])).push(copyLine(row.values));
        encodedDocs++;
      }
      encoded.push(batch);
      batch = { main: [], children: plan.children.map(() => []) };
      page = [];
    };
    for await (const d of source) {
      page.push(d);
      if (page.length === 5000) await encodePage();
    }
    if (page.length > 0) await encodePage();

    // ---- P: raw COPY of the same rows ------------------------------------------------------
    log('P: raw COPY');
    const client = await pPool.connect();
    const pBackend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid as number;
    const pPg0 = processCpu(pBackend);
    const pNode0 = process.cpuUsage();
    const p0 = performance.now();
    for (const b of encoded) {
      await client.query('BEGIN');
      await copyRows(client, plan.main.table, plan.main.columns, b.main);
      for (let i = 0; i < plan.children.length; i++) {
        const c = plan.children[i];
        if (c) await copyRows(client, c.table, c.columns, b.children[i] as string[]);
      }
      await client.query('COMMIT');
    }
    const P: Timed = { docs: encodedDocs, ms: performance.now() - p0 };
    cpu.P = { node: cpuSeconds(process.cpuUsage(pNode0)), pg: processCpu(pBackend) - pPg0, source: 0 };
    client.release();
    measured('P', P);
    await pPool.end();

    // ---- Ts: migrate's write path with an in-process synthetic source ----------------------
    log(`Ts: synthetic source, ${fmt(copySlice)} orders built in memory`);
    const sUrl = await clone(`bench_s_${process.pid}`);
    const sPool = new pg.Pool({ connectionString: sUrl, max: 4 });
    await ensureStateSchema(sPool);
    const sPg = new BackendCpu(admin, `bench_s_${process.pid}`);
    const ctx = new Ctx(makePlan(scale), seed, false);
    const stats = new CollectionStats();
    const pctx = { db, pool: sPool, runId: '00000000-0000-4000-8000-000000000000', batchSize: 5000, dryRun: false, references: new ReferenceIndex(mapping, { target: sPool }), stats, signal: new AbortController().signal };
    await sPool.query(`INSERT INTO ${stateTable('checkpoints')} (collection, partition, mode, mapping_fingerprint) VALUES ('orders', 0, 'fresh', 'bench')`);
    await sPg.start();
    const tsNode0 = process.cpuUsage();
    const ts0 = performance.now();
    // The range worker's own loop (migrate's overlap of converting batch n+1 with writing batch n),
    // fed batches of documents built in memory instead of read from MongoDB.
    async function* synthetic(): AsyncGenerator<RawBatch> {
      for (let i = 0; i < copySlice; i += 5000) {
        const docs: Document[] = [];
        for (let j = i; j < Math.min(copySlice, i + 5000); j++) {
          // Built a slice at a time, as a driver's reads leave the event loop to the write.
          if (j > i && j % 250 === 0) await new Promise((resolve) => setImmediate(resolve));
          docs.push(BUILDERS.orders(ctx, j));
        }
        yield { count: docs.length, bytes: 0, decode: () => docs, decodeAt: (k) => docs[k] as Document };
      }
    }
    await migrateBatches({ collection: ordersMapping, plan, partition: 0, range: { start: null, end: null }, lastKey: null, mode: 'fresh' }, pctx, synthetic());
    const Ts: Timed = { docs: stats.read, ms: performance.now() - ts0 };
    cpu.Ts = { node: cpuSeconds(process.cpuUsage(tsNode0)), pg: await sPg.stop(), source: 0 };
    measured('Ts', Ts);
    await sPool.end();

    // ---- N: the customer's approach -------------------------------------------------------
    log('N: Prisma create per document and createMany');
    const nUrl = await clone(`bench_n_${process.pid}`);
    const { createPrisma } = await prismaClientFactory();
    const prisma = await createPrisma(nUrl);
    const docsForN = await db.collection('orders').find({}, { sort: { _id: 1 }, limit: createManySlice + createSlice, ...EXACT_READ_OPTIONS }).toArray();
    const nPool = new pg.Pool({ connectionString: nUrl, max: 1 });
    const nRefs = new ReferenceIndex(mapping, { target: nPool });
    const convertedForN = docsForN.map((d) => convertDocument(ordersMapping, d)).flatMap((r) => (r.ok ? [r.doc] : []));
    await nRefs.load(convertedForN);
    await nPool.end();
    const inputs = convertedForN.map((d) => toPrismaInput(ordersMapping, d, (c, u) => nRefs.exists(c, u))).filter((x): x is PrismaOrderInput => x !== undefined);
    const createInputs = inputs.slice(0, createSlice);
    const c0 = performance.now();
    for (const input of createInputs) await prisma.order.create({ data: { ...input.order, items: { create: input.items }, statusHistory: { create: input.history } } });
    const N1: Timed = { docs: createInputs.length, ms: performance.now() - c0 };
    const manyInputs = inputs.slice(createSlice, createSlice + createManySlice);
    const m0 = performance.now();
    for (let i = 0; i < manyInputs.length; i += 5000) {
      const b = manyInputs.slice(i, i + 5000);
      await prisma.order.createMany({ data: b.map((x) => x.order) });
      await prisma.orderItem.createMany({ data: b.flatMap((x) => x.items.map((it) => ({ ...it, orderId: x.order.id }))) });
      await prisma.orderStatusHistory.createMany({ data: b.flatMap((x) => x.history.map((h) => ({ ...h, orderId: x.order.id }))) });
    }
    const N2: Timed = { docs: manyInputs.length, ms: performance.now() - m0 };
    await prisma.$disconnect();

    // ---- report -----------------------------------------------------------------------------
    const s = rate(S.docs, S.ms);
    const p = rate(P.docs, P.ms);
    const tr = rate(T.docs, T.ms);
    const tsr = rate(Ts.docs, Ts.ms);
    const br = rate(B.docs, B.ms);
    const serial = 1 / (1 / s + 1 / p);
    const n1 = rate(N1.docs, N1.ms);
    const n2 = rate(N2.docs, N2.ms);
    results.push(
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; source ${sourceVersion}${values['mongo-uri'] ? ' (--mongo-uri)' : ', started by the bench'}; target PostgreSQL ${(await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?'} (local).`,
      `Data: ${fmt(orders)} orders (with items and status history; ${fmt(Object.values(gen.counts).reduce((a, b) => a + b, 0))} documents in all), seed ${seed}.`,
      '',
      '| measure | docs | seconds | docs/s |',
      '|---|---:|---:|---:|',
      `| S: source drain (driver, decoded) | ${fmt(S.docs)} | ${(S.ms / 1000).toFixed(1)} | ${fmt(s)} |`,
      `| B: baseline peer, driver + COPY of one jsonb column per document | ${fmt(B.docs)} | ${(B.ms / 1000).toFixed(1)} | ${fmt(br)} |`,
      `| P: raw COPY of the pre-encoded rows (orders + items + history) | ${fmt(P.docs)} | ${(P.ms / 1000).toFixed(1)} | ${fmt(p)} |`,
      `| T: \`hybrid-migrate migrate orders\` end to end, checkpoints on | ${fmt(T.docs)} | ${(T.ms / 1000).toFixed(1)} | ${fmt(tr)} |`,
      ...extra.map((x) => `| ${x.name}: ${x.label} (peak RSS ${x.peakRssMb.toFixed(0)} MB) | ${fmt(x.docs)} | ${(x.ms / 1000).toFixed(1)} | ${fmt(rate(x.docs, x.ms))} |`),
      `| Ts: migrate's convert + write path, synthetic in-process source | ${fmt(Ts.docs)} | ${(Ts.ms / 1000).toFixed(1)} | ${fmt(tsr)} |`,
      verified
        ? `| V: \`hybrid-migrate verify orders\` on T's result (${verified.ok ? 'clean' : `differences: ${JSON.stringify(verified.differences)}`}) | ${fmt(verified.V.docs)} | ${(verified.V.ms / 1000).toFixed(1)} | ${fmt(rate(verified.V.docs, verified.V.ms))} |`
        : '| V: verify | skipped (--skip-verify) | | |',
      detected
        ? `| D: \`migrate orders --incremental --detect-changes\` right after T (the whole command: the sync, then one _id pass; nothing changed) | ${fmt(detected.docs)} | ${(detected.ms / 1000).toFixed(1)} | ${fmt(rate(detected.docs, detected.ms))} |`
        : '| D: --detect-changes | skipped (--skip-detect-changes) | | |',
      `| N: Prisma \`create\` per document (nested items + history) | ${fmt(N1.docs)} | ${(N1.ms / 1000).toFixed(1)} | ${fmt(n1)} |`,
      `| N: Prisma \`createMany\`, 5k batches (3 calls per batch) | ${fmt(N2.docs)} | ${(N2.ms / 1000).toFixed(1)} | ${fmt(n2)} |`,
      '',
      '| ratio | value | target |',
      '|---|---:|---:|',
      `| T / S | ${(tr / s).toFixed(2)} | |`,
      `| T / B (the simplest jsonb copy) | ${(tr / br).toFixed(2)} | ≥ 0.8 |`,
      ...extra.map((x) => `| ${x.name} / T; ${x.name} / serial limit; ${x.name} / B | ${(rate(x.docs, x.ms) / tr).toFixed(2)}; ${(rate(x.docs, x.ms) / serial).toFixed(2)}; ${(rate(x.docs, x.ms) / br).toFixed(2)} | |`),
      `| T / P | ${(tr / p).toFixed(2)} | |`,
      `| T / serial limit 1/(1/S+1/P) | ${(tr / serial).toFixed(2)} | ≥ 0.8 |`,
      `| T / min(S, P) | ${(tr / Math.min(s, p)).toFixed(2)} | ≥ 0.6 |`,
      `| T / createMany | ${(tr / n2).toFixed(1)} | ≥ 20 |`,
      `| T / create | ${(tr / n1).toFixed(1)} | ≥ 60 |`,
      `| V / T (verify vs migrate) | ${verified ? (rate(verified.V.docs, verified.V.ms) / tr).toFixed(2) : '–'} | ≥ 0.5 |`,
      `| D / T (the change-detecting pass vs migrate) | ${detected ? (rate(detected.docs, detected.ms) / tr).toFixed(2) : '–'} | ≥ 0.5 |`,
      `| Ts / createMany | ${(tsr / n2).toFixed(1)} | (write side alone) |`,
      `| Ts / create | ${(tsr / n1).toFixed(1)} | (write side alone) |`,
      `| Ts / P | ${(tsr / p).toFixed(2)} | ≥ 0.8 |`,
      '',
      ...cpuTable(cpu, { S: S.docs, B: B.docs, P: P.docs, T: T.docs, ...Object.fromEntries(extra.map((x) => [x.name, x.docs])), V: verified?.V.docs ?? 0, D: detected?.docs ?? 0, Ts: Ts.docs }, sourceCpu.local),
      '',
      tTimings
        ? `Where T's time went (its summary): waiting for MongoDB ${(tTimings.sourceWaitMs / 1000).toFixed(1)} s, converting ${(tTimings.convertMs / 1000).toFixed(1)} s, writing to PostgreSQL ${(tTimings.writeMs / 1000).toFixed(1)} s.`
        : '',
      `Peak RSS of \`migrate\` (T): ${t.peakRssMb.toFixed(0)} MB with the default \`--memory-budget 192\`` +
        (tCapped ? `; ${tCapped.peakRssMb.toFixed(0)} MB with \`--memory-budget 0\`, Node's heap policy alone (${fmt(rate(T.docs, tCapped.ms))} docs/s)` : ' (run without the budget skipped)') +
        ' (target ≤ 300 MB).' +
        (verified ? ` Peak RSS of \`verify\` (V): ${verified.peakRssMb.toFixed(0)} MB.` : ''),
      resume
        ? `Resume after kill -9 at ${fmt(resume.committed)} committed of ${fmt(orders)}: the rerun read ${fmt(resume.resumedRead)} documents (${fmt(resume.resumedRead + resume.committed - orders)} read twice; batch 5000, concurrency ${mapping.concurrency}), in ${(resume.r2Ms / 1000).toFixed(1)} s; the killed run had taken ${(resume.r1Ms / 1000).toFixed(1)} s.`
        : 'Resume after kill -9: skipped (--skip-resume).',
    );
    process.stdout.write(`${results.join('\n')}\n`);
  } finally {
    await mongo.close().catch(() => undefined);
    const dbs = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_%\\_${process.pid}'`).catch(() => ({ rows: [] }));
    for (const d of dbs.rows) await admin.query(`DROP DATABASE IF EXISTS ${d.datname} WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    await servers.stop();
  }
}

interface Cpu {
  /** CPU seconds: the tool's process (or this one, for S, B and Ts), PostgreSQL's backends, the source server. */
  node: number;
  pg: number;
  source: number;
}

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

/** CPU seconds per 1,000 documents of each measure, per process. */
function cpuTable(cpu: Record<string, Cpu>, docs: Record<string, number>, sourceLocal: boolean): string[] {
  const per = (v: number, n: number) => (n > 0 ? ((v * 1000) / n).toFixed(3) : '–');
  const rows = Object.entries(cpu).map(([k, c]) => {
    const n = docs[k] ?? 0;
    return `| ${k} | ${per(c.node, n)} | ${k === 'S' ? '–' : per(c.pg, n)} | ${sourceLocal && k !== 'Ts' && k !== 'P' ? per(c.source, n) : '–'} |`;
  });
  const total = (k: string) => (cpu[k] ? (cpu[k].node + cpu[k].pg + cpu[k].source) / (docs[k] || 1) : undefined);
  const ratio = (a: string, b: string) => {
    const x = total(a);
    const y = total(b);
    return x && y ? `| ${a} / ${b} by CPU: CPU per document of ${b} ÷ of ${a} (what the ratio would be with every process CPU-bound on free cores) | ${(y / x).toFixed(2)} |` : undefined;
  };
  const byCpu = [ratio('Ts', 'P'), ratio('T', 'B'), ...Object.keys(cpu).filter((k) => /^T\d+$/.test(k)).map((k) => ratio('T', k))].filter((x): x is string => x !== undefined);
  return [
    'CPU seconds per 1,000 documents (Node: the CLI process for T, T0… and V, the bench process for S, B, P and Ts; Ts includes building the synthetic documents):',
    '',
    '| measure | Node | PostgreSQL backends | source server |',
    '|---|---:|---:|---:|',
    ...rows,
    '',
    '| ratio by CPU, independent of the machine\'s load | value |',
    '|---|---:|',
    ...byCpu,
  ];
}

/** The source server as buildInfo describes it (FerretDB says so in ferretdbVersion). */
async function describeSource(mongo: MongoClient): Promise<string> {
  const info = await mongo.db('admin').command({ buildInfo: 1 }).catch(() => ({}) as Document);
  const ferret = (info as Document).ferretdbVersion as string | undefined;
  return ferret ? `FerretDB ${ferret} (MongoDB ${String(info.version)} wire)` : `MongoDB ${String((info as Document).version ?? '?')} (buildInfo)`;
}

/** The local process serving a mongodb://host:port URI (none for a remote host). */
function localPidOf(uri: string): number[] {
  const m = /^mongodb:\/\/(?:[^@/]*@)?(127\.0\.0\.1|localhost|\[::1\]):(\d+)/.exec(uri);
  const pid = m ? listeningPid(Number(m[2])) : undefined;
  return pid ? [pid] : [];
}

interface PrismaOrderInput {
  order: Record<string, unknown> & { id: string };
  items: Record<string, unknown>[];
  history: Record<string, unknown>[];
}

/** The data a per-document Prisma script would pass: the same converted values, as Prisma input objects. */
function toPrismaInput(mapping: MappedCollection, doc: ConvertedDocument, exists: (collection: string, uuid: string) => boolean): PrismaOrderInput | undefined {
  if (!settleReferences(doc, exists, () => false, () => undefined).ok) return undefined;
  const r = { doc };
  const objectOf = (columns: MappedCollection['columns'], values: (string | null)[]) => {
    const out: Record<string, unknown> = {};
    const written = columns.filter((c) => c.source.kind !== 'none');
    written.forEach((c, i) => {
      const v = values[i];
      if (v === null || v === undefined || c.source.kind === 'parent') return;
      const k = c.column.kind.type;
      out[c.column.field] = k === 'int' ? Number(v) : k === 'timestamp' ? new Date(v) : k === 'json' ? JSON.parse(v) : k === 'boolean' ? v === 't' : c.column.isList ? [] : v;
    });
    return out;
  };
  const [main, ...rest] = r.doc.rows;
  if (!main) return undefined;
  return {
    order: objectOf(mapping.columns, main.values) as PrismaOrderInput['order'],
    items: rest.filter((x) => x.child === 0).map((x) => objectOf(mapping.children[0]?.columns ?? [], x.values)),
    history: rest.filter((x) => x.child === 1).map((x) => objectOf(mapping.children[1]?.columns ?? [], x.values)),
  };
}

interface BenchPrisma {
  order: { create(a: unknown): Promise<unknown>; createMany(a: unknown): Promise<unknown> };
  orderItem: { createMany(a: unknown): Promise<unknown> };
  orderStatusHistory: { createMany(a: unknown): Promise<unknown> };
  $disconnect(): Promise<void>;
}

/** Generates the Prisma client offline (see README) and loads it with the pg driver adapter. */
async function prismaClientFactory(): Promise<{ createPrisma(url: string): Promise<BenchPrisma> }> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('npx', ['prisma', 'generate'], { cwd: root, env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath }, stdio: 'ignore' });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`prisma generate exited ${code}`))));
  });
  const jiti = createJiti(import.meta.url);
  const { PrismaClient } = (await jiti.import(`${root}/generated/prisma/client.ts`)) as { PrismaClient: new (o: unknown) => BenchPrisma };
  const { PrismaPg } = (await import('@prisma/adapter-pg')) as { PrismaPg: new (o: unknown) => unknown };
  return { createPrisma: async (url) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }) };
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
