/**
 * The MongoDB server killed in the middle of a migration (a private FerretDB, so no other
 * test's server goes down): migrate must not exit 0 with rows missing. It stops with exit 4
 * and one clear line naming MongoDB; the batch in flight is rolled back with its checkpoint,
 * so PostgreSQL holds exactly what the checkpoints say. Once the server is back, the next run
 * completes and verify is clean.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli, startCli, type CliEnv } from '../support/cli.js';
import { expectExact } from '../support/crash-checks.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { startFerretdb, type RunningFerretdb } from '../../dev/servers/index.js';

const DOCS = Math.min(Number(process.env.HM_FAULT_DOCS ?? 100_000), 30_000);
const DB = 'stop_test';

let pgDb: TestDatabases & { drop(): Promise<void> };
let ferret: RunningFerretdb;
let dataDir: string;
let env: CliEnv;

async function withMongo<T>(work: (db: Db) => Promise<T>): Promise<T> {
  const client = new MongoClient(ferret.uri);
  try {
    await client.connect();
    return await work(client.db(DB));
  } finally {
    await client.close();
  }
}

beforeAll(async () => {
  pgDb = await createTestDatabases();
  dataDir = mkdtempSync(join(tmpdir(), 'hm-stop-ferretdb-'));
  ferret = await startFerretdb({ dataDir });
  await withMongo((db) => insertSimpleOrders(db, DOCS));
  env = { MONGO_URI: mongoUriFor(ferret.uri, DB), DATABASE_URL: pgDb.databaseUrl };
  expect((await runCli(['migrate', 'workspaces'], env)).code).toBe(0);
}, 600_000);

afterAll(async () => {
  await ferret?.stop();
  await pgDb?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the MongoDB server stopped mid-run', () => {
  it('exit 4 with a clear message, never 0 with rows missing; the checkpoint matches the rows; after a restart the next run completes', async () => {
    const written = async () =>
      (await pgDb.pg.query<{ n: number; rows: number }>(`SELECT coalesce(sum(docs_written), 0)::int AS n, (SELECT count(*)::int FROM orders) AS rows FROM hybrid_migrate.checkpoints WHERE collection = 'orders'`)).rows[0] ?? { n: 0, rows: 0 };
    const run = startCli(['migrate', 'orders', '--batch-size', '500'], env);
    let exited = false;
    void run.done.then(() => (exited = true));
    while (!exited && (await written()).n < 2000) await new Promise((r) => setTimeout(r, 25));
    expect(exited, 'the run finished before the server could be stopped: raise HM_FAULT_DOCS').toBe(false);
    // SIGKILL: a graceful stop would let FerretDB serve its open cursors to the end first.
    const stoppedAt = Date.now();
    process.kill(ferret.pid, 'SIGKILL');
    await ferret.stop();
    const r = await run.done;
    const exitMs = Date.now() - stoppedAt;
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/^error: .*MongoDB/m);
    // One message, not a stack trace.
    expect(r.stderr).not.toMatch(/^\s+at /m);
    const mid = await written();
    expect(mid.rows).toBe(mid.n);
    expect(mid.rows).toBeLessThan(DOCS);

    ferret = await startFerretdb({ dataDir, port: ferret.port });
    const next = await runCli(['migrate', 'orders', '--batch-size', '500'], env);
    expect(next.code, next.stderr).toBe(0);
    const rows = await withMongo((db) => expectExact({ db, pg: pgDb.pg }, env));
    process.stdout.write(
      `\n[faults] MongoDB server killed after ${mid.n} of ${DOCS} documents: migrate exited ${r.code} ${(exitMs / 1000).toFixed(1)} s later ("${r.stderr.split('\n').find((l) => l.startsWith('error: '))}"); after a restart the next run completed, ${rows} rows checked, verify clean\n`,
    );
  });
});
