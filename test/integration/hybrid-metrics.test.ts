/**
 * `instrumentHybrid` against the real servers: a mongoose connection (driver command events)
 * and a real generated Prisma 7 client (query extension) — counts exact to the request,
 * failures counted as errors by code, the readCombined split, the volume from server
 * statistics, the /metrics text in Prometheus' exposition format, and no secret anywhere.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { MongoClient, ObjectId } from 'mongodb';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoUriFor } from '../support/cli.js';
import { useTestDatabases } from '../support/databases.js';
import { REPO_ROOT, runMigrate } from '../support/migration.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { objectIdToUuid } from '../../src/core/ids.js';
import { secretForms } from '../../src/core/redact.js';
import { SAMPLER_COMMENT } from '../../src/hybrid-mode/mongo-command-monitor.js';
import { HybridInstrumentationError, instrumentHybrid, readCombined, type HybridInstrumentation, type HybridSnapshot } from '../../src/index.js';

const t = useTestDatabases();
// Secrets that must never reach a metric: the PostgreSQL password (trust auth accepts any), an
// appName in the MongoDB URI, and values the queries carry.
const PG_PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const APP_NAME = `app-${randomBytes(6).toString('hex')}`;
const SECRET_EMAIL = `secret-${randomBytes(6).toString('hex')}@example.com`;
const SECRET_SLUG = `slug-${randomBytes(6).toString('hex')}`;
const SECRET_FILTER = `filter-${randomBytes(6).toString('hex')}`;

let genDir: string;
let pgUrl: string;
let mongoUri: string;
let conn: mongoose.Connection;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let base: any;
const modelsOf = (c: mongoose.Connection) => ({
  Customer: c.model('Customer', new mongoose.Schema({ email: { type: String, unique: true }, name: String }), 'hm_customers'),
  Order: c.model('Order', new mongoose.Schema({ workspaceId: mongoose.Schema.Types.ObjectId, createdAt: Date }, { strict: false }), 'orders'),
});
let Customer: ReturnType<typeof modelsOf>['Customer'];
let Order: ReturnType<typeof modelsOf>['Order'];
let ws: ObjectId;
let wsUuid: string;

beforeAll(async () => {
  genDir = join(REPO_ROOT, 'generated', `hybrid-metrics-test-${process.pid}`);
  mkdirSync(genDir, { recursive: true });
  const schema = readFileSync(join(REPO_ROOT, 'prisma', 'schema.prisma'), 'utf8').replace(/output\s*=\s*"[^"]*"/, 'output = "./client"');
  writeFileSync(join(genDir, 'schema.prisma'), schema);
  // Offline: generate runs on WebAssembly once PRISMA_SCHEMA_ENGINE_BINARY names any existing file (environment.md).
  execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', join(genDir, 'schema.prisma')], {
    cwd: REPO_ROOT,
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1', DATABASE_URL: t.databaseUrl },
    stdio: 'pipe',
  });
  const url = new URL(t.databaseUrl);
  url.password = PG_PASSWORD;
  pgUrl = url.toString();
  const m = new URL(mongoUriFor(t.mongoUri, t.mongoDbName));
  m.searchParams.set('appName', APP_NAME);
  mongoUri = m.toString();

  const { PrismaClient } = (await import(/* @vite-ignore */ join(genDir, 'client', 'client.ts'))) as { PrismaClient: new (o: object) => unknown };
  const { PrismaPg } = await import('@prisma/adapter-pg');
  base = new PrismaClient({ adapter: new PrismaPg({ connectionString: pgUrl }) });
  conn = mongoose.createConnection(mongoUri, { monitorCommands: true });
  await conn.asPromise();
  ({ Customer, Order } = modelsOf(conn));
  // Collections and the unique index now, so that no test counts mongoose's start-up commands.
  await Customer.init();
  await Order.init();
  await Customer.insertMany(Array.from({ length: 20 }, (_, i) => ({ email: `c${i}@example.com`, name: `C ${i}` })));

  // A half-finished Phase 2 for the combined reads: 30 orders migrated, 12 more in MongoDB, 5 application orders in PostgreSQL.
  ws = await insertSimpleOrders(t.db, 30);
  wsUuid = objectIdToUuid(ws);
  await runMigrate(t.db, t.pg, { collections: ['workspaces', 'orders'] });
  await t.db.collection('orders').insertMany(Array.from({ length: 12 }, (_, j) => ({ workspaceId: ws, clientName: `Later ${j}`, status: 'pending', createdAt: new Date(Date.UTC(2021, 0, 1) + j * 1000) })));
  await t.pg.query(
    `INSERT INTO orders (id, workspace_id, client_name, status, created_at)
     SELECT gen_random_uuid(), $1, 'app ' || g, 'pending', now() - g * interval '1 minute' FROM generate_series(1, 5) g`,
    [wsUuid],
  );
});

afterAll(async () => {
  await base?.$disconnect();
  await conn?.close();
  if (genDir) rmSync(genDir, { recursive: true, force: true });
});

/** A fresh instrumentation for one test, closed after it. */
async function withHybrid(fn: (h: HybridInstrumentation<typeof base>) => Promise<void>, opts: Parameters<typeof instrumentHybrid>[0] = {}): Promise<void> {
  const hybrid = instrumentHybrid({ mongo: conn, prisma: base, volume: false, ...opts });
  try {
    await fn(hybrid);
  } finally {
    await hybrid.close();
  }
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the Prometheus text exposition format (0.0.4): throws on any line it does not recognise. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  for (const line of text.split('\n')) {
    if (line === '' || new RegExp(`^# HELP ${NAME} .*$`).test(line)) continue;
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (type) {
      expect(types.has(type[1]!), `TYPE twice for ${type[1]}`).toBe(false);
      types.set(type[1]!, type[2]!);
      continue;
    }
    const m = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    if (!m) throw new Error(`not in the exposition format: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
    while (label.lastIndex < body.length) {
      const l = label.exec(body);
      if (!l) throw new Error(`bad labels: ${body}`);
      labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value: ${line}`);
    const family = types.has(m[1]!) ? m[1]! : m[1]!.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(family)) throw new Error(`sample before its TYPE: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { types, samples };
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;
}

async function metricsText(h: HybridInstrumentation<unknown>): Promise<string> {
  return h.registry.metrics();
}

function op(s: HybridSnapshot, db: 'mongodb' | 'postgresql', target: string, operation: string) {
  return s.databases[db].operations.find((o) => o.target === target && o.operation === operation);
}

describe('instrumentHybrid: requests per database', () => {
  it('counts exactly N mongoose and N Prisma operations, run side by side, by collection/model and operation', async () => {
    const workspace = await base.workspace.create({ data: { name: 'counted', slug: `counted-${process.pid}`, currency: 'EUR' } });
    await withHybrid(async (hybrid) => {
      const N = 60;
      const work = Array.from({ length: N }, (_, i) => i);
      // Eight at a time: the command events of concurrent requests must not be mixed up.
      for (let i = 0; i < N; i += 8) {
        await Promise.all(work.slice(i, i + 8).flatMap((k) => [Customer.findOne({ email: `c${k % 20}@example.com` }).lean(), hybrid.prisma.workspace.findUnique({ where: { id: workspace.id } })]));
      }
      const s = hybrid.snapshot();
      expect(s.databases.mongodb.operations.map((o) => [o.target, o.operation, o.requests, o.errors])).toEqual([['hm_customers', 'find', N, 0]]);
      expect(s.databases.postgresql.operations.map((o) => [o.target, o.operation, o.requests, o.errors])).toEqual([['Workspace', 'findUnique', N, 0]]);
      for (const db of ['mongodb', 'postgresql'] as const) {
        const d = s.databases[db];
        expect(d).toMatchObject({ instrumented: true, monitoring: 'on', requests: N, errors: 0, errorRate: 0 });
        expect(d.latency.meanMs).toBeGreaterThan(0);
        expect(d.latency.p95Ms).toBeGreaterThanOrEqual(d.latency.meanMs! * 0.5);
        expect(d.latency.p95Ms).toBeLessThanOrEqual(d.latency.maxMs!);
      }
      const { samples } = parseExposition(await metricsText(hybrid));
      expect(value(samples, 'hybrid_db_requests_total', { database: 'mongodb', target: 'hm_customers', operation: 'find' })).toBe(N);
      expect(value(samples, 'hybrid_db_requests_total', { database: 'postgresql', target: 'Workspace', operation: 'findUnique' })).toBe(N);
      expect(value(samples, 'hybrid_db_request_duration_seconds_count', { database: 'mongodb', target: 'hm_customers', operation: 'find' })).toBe(N);
      expect(value(samples, 'hybrid_db_request_duration_seconds_bucket', { database: 'postgresql', target: 'Workspace', operation: 'findUnique', le: '+Inf' })).toBe(N);
      // Prisma transactions: each operation of a batch counts once.
      await hybrid.prisma.$transaction([hybrid.prisma.workspace.count(), hybrid.prisma.order.findMany({ take: 1 })]);
      const after = hybrid.snapshot();
      expect(after.databases.postgresql.requests).toBe(N + 2);
      expect(op(after, 'postgresql', 'Order', 'findMany')?.requests).toBe(1);
    });
  });

  it('counts failed requests as errors, by code: a duplicate key and bad queries on each side', async () => {
    await base.workspace.create({ data: { name: 'dup', slug: SECRET_SLUG, currency: 'EUR' } });
    await withHybrid(async (hybrid) => {
      await Customer.create({ email: SECRET_EMAIL });
      await expect(Customer.create({ email: SECRET_EMAIL })).rejects.toMatchObject({ code: 11000 });
      await expect(Customer.aggregate([{ $badStage: { value: SECRET_FILTER } } as unknown as mongoose.PipelineStage])).rejects.toThrow();
      await expect(hybrid.prisma.workspace.create({ data: { name: 'dup', slug: SECRET_SLUG, currency: 'EUR' } })).rejects.toMatchObject({ code: 'P2002' });
      await expect(hybrid.prisma.workspace.findUnique({ where: { id: SECRET_FILTER } })).rejects.toThrow();
      await expect(hybrid.prisma.workspace.findUnique({ where: {} })).rejects.toThrow();
      await hybrid.prisma.workspace.findFirst({ where: { slug: SECRET_SLUG } });

      const s = hybrid.snapshot();
      expect(s.databases.mongodb).toMatchObject({ requests: 3, errors: 2 });
      expect(s.databases.mongodb.errorRate).toBeCloseTo(2 / 3);
      expect(s.databases.mongodb.errorsByCode.DuplicateKey).toBe(1);
      expect(op(s, 'mongodb', 'hm_customers', 'insert')).toMatchObject({ requests: 2, errors: 1, errorRate: 0.5 });
      expect(op(s, 'mongodb', 'hm_customers', 'aggregate')).toMatchObject({ requests: 1, errors: 1 });
      expect(s.databases.postgresql).toMatchObject({ requests: 4, errors: 3, errorRate: 0.75 });
      expect(s.databases.postgresql.errorsByCode).toMatchObject({ P2002: 1, PrismaClientValidationError: 1 });
      expect(op(s, 'postgresql', 'Workspace', 'findUnique')).toMatchObject({ requests: 2, errors: 2 });

      const { samples } = parseExposition(await metricsText(hybrid));
      expect(value(samples, 'hybrid_db_request_errors_total', { database: 'mongodb', target: 'hm_customers', operation: 'insert', code: 'DuplicateKey' })).toBe(1);
      expect(value(samples, 'hybrid_db_request_errors_total', { database: 'postgresql', target: 'Workspace', operation: 'create', code: 'P2002' })).toBe(1);
      const errorSeries = samples.filter((x) => x.name === 'hybrid_db_request_errors_total');
      expect(errorSeries.reduce((n, x) => n + x.value, 0)).toBe(5);
    });
  });
});

describe('instrumentHybrid: the readCombined split', () => {
  async function readAllPages(read: (after: string | null) => Promise<{ nextCursor: string | null; stats: { mongodb: number; postgresql: number; droppedMigrated: number } }>) {
    const pages: { mongodb: number; postgresql: number; droppedMigrated: number }[] = [];
    let after: string | null = null;
    do {
      const page = await read(after);
      pages.push(page.stats);
      after = page.nextCursor;
    } while (after && pages.length < 50);
    return pages;
  }

  it("counts the items each database served, page by page, and MongoDB's share falls to zero once all is migrated", async () => {
    await withHybrid(async (hybrid) => {
      const opts = { mongo: Order, prisma: hybrid.prisma.order, registry: hybrid.prisma, where: { mongo: { workspaceId: ws }, prisma: { workspaceId: wsUuid } }, limit: 10 };
      const pages = await readAllPages((after) => hybrid.readCombined({ ...opts, after }));
      const sum = (k: 'mongodb' | 'postgresql' | 'droppedMigrated') => pages.reduce((n, p) => n + p[k], 0);
      expect([sum('mongodb'), sum('postgresql')]).toEqual([12, 35]);
      expect(sum('droppedMigrated')).toBeGreaterThan(0);
      const servedBy = { mongodb: 0, postgresql: 0, both: 0, none: 0 };
      for (const p of pages) servedBy[p.mongodb > 0 ? (p.postgresql > 0 ? 'both' : 'mongodb') : p.postgresql > 0 ? 'postgresql' : 'none']++;
      const before = hybrid.snapshot();
      expect(before.combinedReads).toMatchObject({ pages: pages.length, servedBy, items: { mongodb: 12, postgresql: 35 }, droppedMigrated: sum('droppedMigrated') });
      expect(before.combinedReads.mongodbShare).toBeCloseTo(12 / 47);
      expect(before.combinedReads.collections.orders?.items).toEqual({ mongodb: 12, postgresql: 35 });
      // The reads themselves are requests to each database: one findMany per page on PostgreSQL.
      expect(op(before, 'postgresql', 'Order', 'findMany')?.requests).toBe(pages.length);
      expect(op(before, 'mongodb', 'orders', 'find')?.requests).toBeGreaterThanOrEqual(pages.length);

      const { samples } = parseExposition(await metricsText(hybrid));
      expect(value(samples, 'hybrid_combined_read_items_total', { collection: 'orders', database: 'mongodb' })).toBe(12);
      expect(value(samples, 'hybrid_combined_read_items_total', { collection: 'orders', database: 'postgresql' })).toBe(35);
      expect(samples.filter((x) => x.name === 'hybrid_combined_reads_total').reduce((n, x) => n + x.value, 0)).toBe(pages.length);

      // The rest migrated: every page is now served by PostgreSQL alone; the plain function with `observe` counts the same way.
      const rerun = await runMigrate(t.db, t.pg, { collections: ['orders'], restart: true });
      expect(rerun.collections[0]?.migrated).toBeGreaterThanOrEqual(12);
      const later = await readAllPages((after) => readCombined({ ...opts, after, observe: hybrid.observeCombinedRead }));
      const s = hybrid.snapshot().combinedReads;
      expect(s.items.mongodb - before.combinedReads.items.mongodb).toBe(0);
      expect(s.items.postgresql - before.combinedReads.items.postgresql).toBe(47);
      expect(s.servedBy.postgresql - before.combinedReads.servedBy.postgresql).toBe(later.length);
      expect(s.servedBy.mongodb + s.servedBy.both).toBe(before.combinedReads.servedBy.mongodb + before.combinedReads.servedBy.both);
    });
  });
});

describe('instrumentHybrid: data volume', () => {
  it("samples each collection's and table's size and count from server statistics, and its own commands are not counted as requests", async () => {
    await t.pg.query('ANALYZE orders; ANALYZE workspaces');
    const sent: { name: string; comment: unknown }[] = [];
    const client = conn.getClient();
    const spy = (e: { commandName: string; command: Record<string, unknown> }) => sent.push({ name: e.commandName, comment: e.command.comment });
    client.on('commandStarted', spy);
    try {
      await withHybrid(async (hybrid) => {
        await hybrid.sampleVolume();
        const s = hybrid.snapshot();
        const mongo = Object.fromEntries(s.databases.mongodb.volume.targets.map((x) => [x.target, x]));
        expect(mongo.hm_customers?.records).toBe(await t.db.collection('hm_customers').countDocuments());
        expect(mongo.orders?.records).toBe(await t.db.collection('orders').countDocuments());
        expect(mongo.orders?.bytes).toBeGreaterThan(0);
        const pgTargets = Object.fromEntries(s.databases.postgresql.volume.targets.map((x) => [x.target, x]));
        const truth = await t.pg.query<{ n: string; bytes: string }>(`SELECT (SELECT count(*) FROM orders) AS n, pg_total_relation_size('orders') AS bytes`);
        expect(pgTargets.orders).toEqual({ target: 'orders', records: Number(truth.rows[0]!.n), bytes: Number(truth.rows[0]!.bytes) });
        expect(pgTargets._prisma_migrations).toBeUndefined();
        expect(s.databases.postgresql.volume.bytes).toBe(s.databases.postgresql.volume.targets.reduce((n, x) => n + x.bytes!, 0));
        expect(Date.parse(s.databases.mongodb.volume.sampledAt!)).toBeGreaterThan(Date.now() - 60_000);
        // Statistics only: names and collStats, marked as the sampler's, and none of them counted.
        expect(sent.length).toBeGreaterThan(0);
        expect([...new Set(sent.map((c) => c.name))].sort()).toEqual(['collStats', 'listCollections']);
        expect(sent.every((c) => c.comment === SAMPLER_COMMENT)).toBe(true);
        expect([s.databases.mongodb.requests, s.databases.postgresql.requests]).toEqual([0, 0]);

        const { samples } = parseExposition(await metricsText(hybrid));
        expect(value(samples, 'hybrid_db_volume_records', { database: 'mongodb', target: 'hm_customers' })).toBe(mongo.hm_customers?.records);
        expect(value(samples, 'hybrid_db_volume_bytes', { database: 'postgresql', target: 'orders' })).toBe(Number(truth.rows[0]!.bytes));
      });
    } finally {
      client.removeListener('commandStarted', spy);
    }
  });

  it('samples on the schedule the application chose, only what it named, and stops at close()', async () => {
    const hybrid = instrumentHybrid({ mongo: conn, prisma: base, volume: { intervalMs: 150, collections: ['hm_customers'], tables: ['workspaces'] } });
    const times = new Set<string>();
    try {
      const deadline = Date.now() + 10_000;
      while (times.size < 3 && Date.now() < deadline) {
        const at = hybrid.snapshot().databases.postgresql.volume.sampledAt;
        if (at) times.add(at);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(times.size).toBeGreaterThanOrEqual(3);
      const s = hybrid.snapshot();
      expect(s.databases.mongodb.volume.targets.map((x) => x.target)).toEqual(['hm_customers']);
      expect(s.databases.postgresql.volume.targets.map((x) => x.target)).toEqual(['workspaces']);
    } finally {
      await hybrid.close();
    }
    const stopped = hybrid.snapshot().databases.postgresql.volume.sampledAt;
    await new Promise((r) => setTimeout(r, 600));
    expect(hybrid.snapshot().databases.postgresql.volume.sampledAt).toBe(stopped);
    // Closed: nothing is counted any more, and the metrics left the registry.
    await hybrid.prisma.workspace.count();
    expect(hybrid.snapshot().databases.postgresql.requests).toBe(0);
    expect(await hybrid.registry.metrics()).not.toContain('hybrid_db_');
  });
});

describe('instrumentHybrid: /metrics', () => {
  let server: Server;
  afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('serves the Prometheus text format through its handler, with conventional names and labels, and no secret in it or in the snapshot', async () => {
    // The secret values exist already (whichever tests ran before), so that the writes below fail on them.
    await t.db.collection('hm_customers').updateOne({ email: SECRET_EMAIL }, { $set: { name: 'secret' } }, { upsert: true });
    await base.workspace.upsert({ where: { slug: SECRET_SLUG }, create: { name: 'dup', slug: SECRET_SLUG, currency: 'EUR' }, update: {} });
    await withHybrid(async (hybrid) => {
      await Customer.findOne({ email: SECRET_EMAIL }).lean();
      await expect(Customer.create({ email: SECRET_EMAIL })).rejects.toThrow();
      await expect(hybrid.prisma.workspace.findUnique({ where: { id: SECRET_FILTER } })).rejects.toThrow();
      await expect(hybrid.prisma.workspace.create({ data: { name: SECRET_FILTER, slug: SECRET_SLUG, currency: 'EUR' } })).rejects.toThrow();
      await hybrid.readCombined({ mongo: Order, prisma: hybrid.prisma.order, registry: hybrid.prisma, where: { mongo: { workspaceId: ws }, prisma: { workspaceId: wsUuid } }, limit: 5 });
      await hybrid.sampleVolume();
      server = createServer((req, res) => void hybrid.metricsHandler(req, res));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      const { types, samples } = parseExposition(text);

      expect(Object.fromEntries(types)).toEqual({
        hybrid_db_requests_total: 'counter',
        hybrid_db_request_errors_total: 'counter',
        hybrid_db_request_duration_seconds: 'histogram',
        hybrid_db_volume_bytes: 'gauge',
        hybrid_db_volume_records: 'gauge',
        hybrid_db_volume_sample_errors_total: 'counter',
        hybrid_db_volume_sampled_timestamp_seconds: 'gauge',
        hybrid_combined_reads_total: 'counter',
        hybrid_combined_read_items_total: 'counter',
        hybrid_combined_read_migrated_dropped_total: 'counter',
      });
      for (const [name, type] of types) if (type === 'counter') expect(name).toMatch(/_total$/);
      // Low-cardinality labels only, and their values are names from the code, never data.
      const labelNames = new Set(samples.flatMap((x) => Object.keys(x.labels)));
      expect([...labelNames].sort()).toEqual(['code', 'collection', 'database', 'le', 'operation', 'served_by', 'target']);
      expect(new Set(samples.map((x) => x.labels.database).filter(Boolean))).toEqual(new Set(['mongodb', 'postgresql']));
      for (const x of samples) for (const v of Object.values(x.labels)) expect(v).toMatch(/^[A-Za-z0-9_.$+-]*$/);
      // Histograms: cumulative buckets ending with +Inf = _count.
      const series = new Map<string, number[]>();
      for (const x of samples.filter((s) => s.name === 'hybrid_db_request_duration_seconds_bucket')) {
        const key = `${x.labels.database}/${x.labels.target}/${x.labels.operation}`;
        series.set(key, [...(series.get(key) ?? []), x.value]);
        if (x.labels.le === '+Inf') expect(x.value).toBe(value(samples, 'hybrid_db_request_duration_seconds_count', { database: x.labels.database!, target: x.labels.target!, operation: x.labels.operation! }));
      }
      expect(series.size).toBeGreaterThan(3);
      for (const counts of series.values()) expect(counts).toEqual([...counts].sort((a, b) => a - b));

      const published = `${text}\n${JSON.stringify(hybrid.snapshot())}`;
      const secrets = [PG_PASSWORD, pgUrl, mongoUri, t.databaseUrl, APP_NAME, SECRET_EMAIL, SECRET_SLUG, SECRET_FILTER];
      expect(secrets.flatMap((s) => secretForms(s)).filter((f) => published.includes(f))).toEqual([]);
      expect(published).not.toMatch(/postgres(ql)?:\/\/|mongodb:\/\//);
    });
  });
});

describe('instrumentHybrid: MongoDB command monitoring', () => {
  it('refuses a client connected without monitorCommands, saying what to do', async () => {
    const plain = mongoose.createConnection(mongoUri);
    await plain.asPromise();
    try {
      let error: unknown;
      try {
        instrumentHybrid({ mongo: plain, volume: false });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(HybridInstrumentationError);
      expect(error).toMatchObject({ code: 'MONGO_MONITOR_COMMANDS_OFF' });
      expect((error as Error).message).toContain('mongoose.connect(uri, { monitorCommands: true })');
      expect(() => instrumentHybrid({ mongo: mongoose.createConnection(), volume: false })).toThrow(/after mongoose.connect/);
    } finally {
      await plain.close();
    }
  });

  it('takes the mongoose module itself, connected as the README says', async () => {
    const app = new mongoose.Mongoose();
    await app.connect(mongoUri, { monitorCommands: true });
    const hybrid = instrumentHybrid({ mongo: app, volume: false });
    try {
      const Customers = app.model('Customer', new app.Schema({ email: String }), 'hm_customers');
      await Customers.find({ email: /^c1/ }).lean();
      await Customers.countDocuments({});
      await hybrid.sampleVolume();
      const s = hybrid.snapshot().databases.mongodb;
      // Everything the application's mongoose sent: its autoCreate of the model's collection too.
      expect(s.operations.map((o) => [o.target, o.operation, o.requests])).toEqual([['hm_customers', 'aggregate', 1], ['hm_customers', 'create', 1], ['hm_customers', 'find', 1]]);
      expect(s.volume.targets.map((x) => x.target)).toContain('hm_customers');
    } finally {
      await hybrid.close();
      await app.disconnect();
    }
  });

  it('turns monitoring on for a client not connected yet, and counts its commands', async () => {
    const client = new MongoClient(mongoUri);
    expect(client.options.monitorCommands).toBe(false);
    const hybrid = instrumentHybrid({ mongo: client, volume: false });
    try {
      expect(hybrid.snapshot().databases.mongodb.monitoring).toBe('unverified');
      await client.connect();
      await client.db(t.mongoDbName).collection('hm_customers').findOne({ email: 'c1@example.com' });
      const s = hybrid.snapshot();
      expect(s.databases.mongodb.operations.map((o) => [o.target, o.operation, o.requests])).toEqual([['hm_customers', 'find', 1]]);
      expect(s.databases.mongodb.monitoring).toBe('on');
      expect(s.databases.postgresql).toMatchObject({ instrumented: false, requests: 0 });
    } finally {
      await hybrid.close();
      await client.close();
    }
  });

  it('reports monitoring off when the option was set too late for the driver to emit events', async () => {
    const client = new MongoClient(mongoUri);
    await client.connect();
    // Accepted by the driver, but its connection pools already froze their options.
    client.options.monitorCommands = true;
    const hybrid = instrumentHybrid({ mongo: client, volume: false });
    try {
      await client.db(t.mongoDbName).collection('hm_customers').findOne({});
      await hybrid.sampleVolume();
      const s = hybrid.snapshot().databases.mongodb;
      expect(s.volume.targets.length).toBeGreaterThan(0);
      expect(s).toMatchObject({ monitoring: 'off', requests: 0 });
    } finally {
      await hybrid.close();
      await client.close();
    }
  });
});

describe('instrumentHybrid: registries', () => {
  it("registers into the application's registry, refuses to register twice, and leaves it at close()", async () => {
    const app = new Registry();
    const { Counter } = await import('prom-client');
    new Counter({ name: 'app_http_requests_total', help: 'the application', registers: [app] }).inc();
    const first = instrumentHybrid({ mongo: conn, prisma: base, registry: app, volume: false });
    try {
      await first.prisma.workspace.count();
      const text = await app.metrics();
      expect(text).toContain('app_http_requests_total 1');
      expect(text).toContain('hybrid_db_requests_total{database="postgresql",target="Workspace",operation="count"} 1');
      expect(() => instrumentHybrid({ mongo: conn, prisma: base, registry: app, volume: false })).toThrow(/already registered/);
      // Another prefix can live beside it; a separate registry merges.
      const second = instrumentHybrid({ prisma: base, registry: app, prefix: 'shop_', volume: false });
      await second.close();
      const appOnly = new Registry();
      new Counter({ name: 'app_jobs_total', help: 'the application', registers: [appOnly] }).inc(2);
      const own = instrumentHybrid({ prisma: base, volume: false });
      try {
        await own.prisma.workspace.count();
        const merged = await Registry.merge([appOnly, own.registry]).metrics();
        expect(merged).toContain('app_jobs_total 2');
        expect(merged).toContain('hybrid_db_requests_total{database="postgresql",target="Workspace",operation="count"} 1');
      } finally {
        await own.close();
      }
    } finally {
      await first.close();
    }
    expect(await app.metrics()).not.toContain('hybrid_');
    expect(await app.metrics()).toContain('app_http_requests_total 1');
  });

  it('is what `import { instrumentHybrid } from "hybrid-migrate"` gives the application (built package entry)', async () => {
    const pkg = (await import('hybrid-migrate')) as Record<string, unknown>;
    expect(['instrumentHybrid', 'HybridInstrumentationError', 'readCombined', 'healthCheck'].filter((n) => typeof pkg[n] !== 'function')).toEqual([]);
    const hybrid = (pkg.instrumentHybrid as typeof instrumentHybrid)({ prisma: base, volume: false });
    try {
      await hybrid.prisma.workspace.count();
      expect(hybrid.snapshot().databases.postgresql.requests).toBe(1);
    } finally {
      await hybrid.close();
    }
  });
});
