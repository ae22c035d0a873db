/**
 * `hybrid-migrate status` through the real CLI: on a database never migrated, after a
 * migration with rejects, later MongoDB documents and application rows (exact counts), with
 * the run's request metrics, with a verification, and with either database down (exit 4,
 * what the other one says still printed, no password anywhere).
 */
import type { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { mongoUriFor, runCli, type CliEnv } from '../support/cli.js';
import { createTestDatabases, useTestDatabases } from '../support/databases.js';
import { runMigrate } from '../support/migration.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { objectIdToUuid } from '../../src/core/ids.js';
import { connectMongo } from '../../src/source/mongo-source.js';
import { connectPostgres } from '../../src/target/pg-target.js';
import { recordRunMetrics } from '../../src/state/runs.js';
import type { StatusReport } from '../../src/use-cases/status/status.js';
import { assessReadiness } from '../../src/use-cases/status/status-readiness.js';
import { interpretVerification } from '../../src/use-cases/status/status-verification.js';

const t = useTestDatabases();
const PG_SECRET = 'pgS3cretPw-status';
let env: CliEnv;
let runId: string;

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

async function status(args: string[], e: CliEnv = env): Promise<{ code: number | null; report: StatusReport; stderr: string; stdout: string }> {
  const r = await runCli(['--json', 'status', ...args], e);
  let report: StatusReport;
  try {
    report = JSON.parse(r.stdout) as StatusReport;
  } catch {
    throw new Error(`status printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, report, stderr: r.stderr, stdout: r.stdout };
}

const byName = (r: StatusReport, name: string) => {
  const c = r.collections.find((x) => x.name === name);
  if (!c) throw new Error(`no ${name} in status`);
  return c;
};

beforeAll(async () => {
  // trust authentication accepts any password: the CLI sees a secret it must never print.
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: withPassword(t.databaseUrl, PG_SECRET) };
  await insertSimpleOrders(t.db, 30, { badEvery: 10 });
});

describe('status', () => {
  it('on a database never migrated: everything pending, and nothing written (not even the state schema)', async () => {
    const { code, report } = await status([]);
    expect(code).toBe(0);
    expect(report.health).toMatchObject({ status: 'ok', databases: { mongodb: 'connected', postgresql: 'connected' } });
    expect(report.databases.mongodb).toMatchObject({ state: 'connected', error: null });
    expect(report.databases.mongodb.serverVersion).toMatch(/FerretDB|MongoDB/);
    expect(report.databases.postgresql.serverVersion).toMatch(/^PostgreSQL 1\d/);
    expect(report.databases.postgresql.latencyMs).toBeGreaterThan(0);
    expect(report.stateSchema).toBe(false);
    expect(report.metricsRun).toBeNull();
    expect(byName(report, 'orders')).toMatchObject({
      documents: 30, migrated: 0, pending: 30, pendingExact: true, rejected: 0,
      rows: { total: 0, migration: 0, application: 0 }, lastRun: null, lastVerification: null,
      readyForPhase3: { ready: false },
    });
    expect(byName(report, 'orders').readyForPhase3.blockers).toContain('never migrated');
    expect(byName(report, 'workspaces')).toMatchObject({ documents: 1, pending: 1 });
    const schema = await t.pg.query(`SELECT to_regnamespace('hybrid_migrate') AS s`);
    expect(schema.rows[0]).toEqual({ s: null });
  });

  it('after a migration: migrated, application rows, pending and rejected exactly, the last run and its request metrics', async () => {
    // The run goes through instrumented connections, as the migrate command does, then stores its metrics.
    const mongo = await connectMongo({ uri: env.MONGO_URI });
    const target = await connectPostgres({ url: t.databaseUrl });
    try {
      const result = await runMigrate(mongo.db, target.pool, { collections: ['workspaces', 'orders'], batchSize: 7 });
      expect(result.collections.map((c) => [c.name, c.migrated, c.rejected])).toEqual([['workspaces', 1, 0], ['orders', 27, 3]]);
      runId = result.runId;
      const metrics = { mongodb: mongo.metrics.snapshot(), postgresql: target.metrics.snapshot() };
      expect(await recordRunMetrics(target.pool, runId, metrics)).toBe(true);
      expect(await recordRunMetrics(target.pool, '00000000-0000-4000-8000-000000000000', metrics)).toBe(false);
    } finally {
      await Promise.all([mongo.close(), target.close()]);
    }
    // Phase 2 goes on: 5 more orders in MongoDB, 4 written by the application in PostgreSQL.
    const ws = (await t.db.collection('workspaces').findOne({}))?._id as ObjectId;
    await insertSimpleOrders(t.db, 5, { workspaceId: ws });
    await t.pg.query(`INSERT INTO orders (id, workspace_id, status) SELECT gen_random_uuid(), $1, 'pending' FROM generate_series(1, 4)`, [objectIdToUuid(ws)]);
    const before = await t.pg.query(`SELECT (SELECT count(*) FROM hybrid_migrate.runs) AS runs, (SELECT count(*) FROM hybrid_migrate.id_map) AS ids, (SELECT md5(string_agg(summary::text, ',')) FROM hybrid_migrate.runs) AS h`);

    const { code, report } = await status(['workspaces', 'orders']);
    expect(code).toBe(0);
    expect(report.stateSchema).toBe(true);
    const orders = byName(report, 'orders');
    expect(orders).toMatchObject({
      documents: 35, migrated: 27, pending: 5, pendingExact: true, rejected: 3, deletedInSource: 0,
      rows: { total: 31, migration: 27, application: 4 },
      checkpoints: { done: 1, ranges: 1 },
      lastRun: { id: runId, command: 'migrate', status: 'done', summary: { name: 'orders', migrated: 27, rejected: 3 } },
      lastVerification: null, changedSinceLastRun: 0,
    });
    expect(orders.readyForPhase3.ready).toBe(false);
    expect(orders.readyForPhase3.blockers).toEqual(['5 documents not migrated', '3 rejected documents (see hybrid_migrate.rejects)', 'never verified']);
    expect(orders.volume.postgresqlBytes).toBeGreaterThan(0);
    // Metrics of the run, per database.
    expect(report.metricsRun).toMatchObject({ runId, command: 'migrate' });
    const m = report.databases.mongodb.lastRunMetrics;
    const p = report.databases.postgresql.lastRunMetrics;
    expect(m?.requests).toBeGreaterThanOrEqual(2);
    expect(m?.operations.find?.requests).toBeGreaterThanOrEqual(1);
    expect(m?.items).toBeGreaterThanOrEqual(31); // every document read at least once
    expect(p?.requests).toBeGreaterThan(10);
    expect(p?.errors).toBe(0);
    expect(p?.p95Ms).toBeGreaterThan(0);
    expect(Object.keys(p?.operations ?? {})).toEqual(expect.arrayContaining(['BEGIN', 'COMMIT', 'COPY']));
    expect(report.databases.postgresql.volume?.databaseBytes).toBeGreaterThan(0);
    expect(report.databases.postgresql.volume?.stateBytes).toBeGreaterThan(0);
    // Estimated from counts when the collection is above the exact limit: same number here, flagged as an estimate.
    const estimated = await status(['orders', '--exact-limit', '1']);
    expect(byName(estimated.report, 'orders')).toMatchObject({ pending: 5, pendingExact: false, deletedInSource: null });
    // status wrote nothing.
    const after = await t.pg.query(`SELECT (SELECT count(*) FROM hybrid_migrate.runs) AS runs, (SELECT count(*) FROM hybrid_migrate.id_map) AS ids, (SELECT md5(string_agg(summary::text, ',')) FROM hybrid_migrate.runs) AS h`);
    expect(after.rows).toEqual(before.rows);

    const human = await runCli(['status', 'orders'], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Health: ok \(mongodb connected, postgresql connected\)/);
    expect(human.stdout).toContain(`Requests of the last run that recorded metrics (migrate ${runId}`);
    expect(human.stdout).toMatch(/orders\s+35\s+27\s+5\s+3\s+4\s+31/);
    expect(human.stdout).toContain('never verified');
    expect(human.stdout + human.stderr).not.toContain(PG_SECRET);
  });

  it('a collection migrated, verified clean after the run and unchanged since is ready for Phase 3; a later change makes it not ready', async () => {
    await t.pg.query(`CREATE TABLE IF NOT EXISTS hybrid_migrate.verifications (collection text NOT NULL, status text, differences integer, finished_at timestamptz)`);
    await t.pg.query(`INSERT INTO hybrid_migrate.verifications (collection, status, differences, finished_at) VALUES ('workspaces', 'clean', 0, now()), ('orders', 'differences', 2, now())`);
    // The workspace has no updatedAt: "unchanged since" is known only once a change-detecting pass has checked it (it writes nothing here).
    const pass = await runCli(['migrate', '--incremental', '--detect-changes', 'workspaces'], env);
    expect(pass.code, pass.stderr).toBe(0);
    const { report } = await status(['workspaces', 'orders']);
    expect(byName(report, 'workspaces')).toMatchObject({ lastVerification: { outcome: 'clean' }, readyForPhase3: { ready: true, blockers: [], unknown: [] } });
    expect(byName(report, 'orders').readyForPhase3.blockers).toContain('last verification found differences (2)');
    // Stamped now, after the pass's start: a stamp ahead of the clock (it was now + 1 s) counts as
    // "in the future" until status's own clock passes it, which made this depend on how long the
    // CLI takes to start (it failed once the schema parse got 0.5 s faster).
    await t.db.collection('workspaces').updateOne({}, { $set: { updatedAt: new Date() } });
    const later = await status(['workspaces']);
    expect(byName(later.report, 'workspaces').readyForPhase3).toMatchObject({
      ready: false,
      blockers: ['1 document changed in MongoDB since the last run started (run migrate --incremental)'],
    });
  });

  it('with MongoDB down: exit 4, PostgreSQL side still reported, MongoDB disconnected, no password printed', async () => {
    const mongoSecret = 'm0ngoS3cret-status';
    const r = await status(['orders'], { ...env, MONGO_URI: `mongodb://admin:${mongoSecret}@127.0.0.1:1/shop?directConnection=true` });
    expect(r.code).toBe(4);
    expect(r.report.health).toMatchObject({ status: 'degraded', databases: { mongodb: 'disconnected', postgresql: 'connected' } });
    expect(r.report.databases.mongodb.error).toMatch(/MongoDB/);
    expect(byName(r.report, 'orders')).toMatchObject({ documents: null, migrated: 27, rejected: 3, pending: null, rows: { application: 4 }, readyForPhase3: { ready: false } });
    expect(r.stderr).toMatch(/MongoDB could not be reached/);
    for (const secret of [mongoSecret, PG_SECRET]) expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it('with PostgreSQL down: exit 4, MongoDB side still reported', async () => {
    const r = await status(['orders'], { ...env, DATABASE_URL: `postgresql://postgres:${PG_SECRET}@127.0.0.1:1/none` });
    expect(r.code).toBe(4);
    expect(r.report.health.databases).toEqual({ mongodb: 'connected', postgresql: 'error' });
    expect(byName(r.report, 'orders')).toMatchObject({ documents: 35, migrated: null, rows: null, readyForPhase3: { ready: null } });
    expect(r.stdout + r.stderr).not.toContain(PG_SECRET);
  });
});

describe('status and rejected documents deleted in MongoDB since', () => {
  it('compared exactly, a reject counts only while its document is still in MongoDB', async () => {
    // Before: the rejects table was counted as it stood; status said rejected 3 for 2 documents
    // still set aside, and blocked Phase 3 on one nothing could migrate any more.
    const own = await createTestDatabases();
    try {
      await insertSimpleOrders(own.db, 30, { badEvery: 10 });
      const ownEnv = { MONGO_URI: mongoUriFor(own.mongoUri, own.mongoDbName), DATABASE_URL: own.databaseUrl };
      const m = await runCli(['migrate', 'workspaces', 'orders', '--json'], ownEnv);
      expect(m.code, m.stderr).toBe(0);
      expect(JSON.parse(m.stdout).collections[1]).toMatchObject({ name: 'orders', rejected: 3 });
      await own.db.collection('orders').deleteOne({ status: 'not-a-status' });
      const { report } = await status(['orders', '--exact'], ownEnv);
      expect(byName(report, 'orders')).toMatchObject({ documents: 29, migrated: 27, rejected: 2, pending: 0 });
      expect(byName(report, 'orders').readyForPhase3.blockers).toContain('2 rejected documents (see hybrid_migrate.rejects)');
    } finally {
      await own.drop();
    }
  });
});

describe('readiness and verification rows (pure)', () => {
  const base = { documents: 10, pending: 0, pendingExact: true, rejected: 0, checkpoints: { ranges: 2, done: 2 }, lastCompleteRunStart: '2024-05-01T10:00:00.000Z', changedSinceLastRun: 0 };
  it('needs a clean verification made after the last complete run', () => {
    const clean = interpretVerification({ collection: 'orders', status: 'clean', finished_at: '2024-05-01T11:00:00+00:00' });
    expect(assessReadiness({ ...base, verification: clean })).toEqual({ ready: true, blockers: [], unknown: [] });
    const stale = interpretVerification({ collection: 'orders', ok: true, verified_at: '2024-05-01T09:00:00+00:00' });
    expect(assessReadiness({ ...base, verification: stale }).blockers).toEqual(['verified before the last migrate run']);
    const odd = interpretVerification({ collection: 'orders', result: 'whatever' });
    expect(assessReadiness({ ...base, verification: odd })).toMatchObject({ ready: null, unknown: ['outcome of the last verification'] });
    expect(assessReadiness({ ...base, pendingExact: false, verification: clean }).ready).toBeNull();
    expect(interpretVerification({ collection: 'o', mismatches: 3 }).outcome).toBe('differences');
  });
});
