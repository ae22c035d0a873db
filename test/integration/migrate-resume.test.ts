/**
 * Crash safety: a migration killed with SIGKILL at random points, then rerun, ends with
 * exactly the source's documents — none lost, none written twice, the registry one to one —
 * because each batch's rows and its checkpoint commit in one transaction.
 */
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli, startCli } from '../support/cli.js';
import { runMigrate } from '../support/migration.js';
import { prng } from '../support/crash-checks.js';

const t = useTestDatabases();
const DOCS = Number(process.env.HM_RESUME_DOCS ?? 100_000);
const KILLS = 10;

const ws = new ObjectId();
beforeAll(async () => {
  await t.db.collection('workspaces').insertOne({ _id: ws, name: 'Crash test', slug: 'crash', currency: 'XOF', createdAt: new Date('2020-01-01T00:00:00Z') });
  const base = Date.UTC(2020, 0, 1);
  for (let i = 0; i < DOCS; i += 5000) {
    const docs = [];
    for (let j = i; j < Math.min(DOCS, i + 5000); j++) {
      docs.push({
        workspaceId: ws,
        clientName: `Client ${j}`,
        status: j % 7 === 0 ? 'delivered' : 'pending',
        items: [{ name: 'Article', quantity: 1 + (j % 3), unitPrice: `${1000 + j},50` }],
        statusHistory: [{ status: 'pending', at: new Date(base + j * 1000) }],
        createdAt: new Date(base + j * 1000),
      });
    }
    await t.db.collection('orders').insertMany(docs, { ordered: false });
  }
  await runMigrate(t.db, t.pg, { collections: ['workspaces'] });
}, 600_000);

describe(`kill -9 at ${KILLS} random points of a ${DOCS.toLocaleString('en-US')}-document migration`, () => {
  it('resumes to exactly the source documents: none lost, none duplicated, registry one to one', async () => {
    const env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
    const args = ['migrate', 'orders', '--batch-size', '1000', '--concurrency', '2', '--partition-size', String(Math.ceil(DOCS / 4)), '--ranges', '4'];
    const random = prng(20261124);
    const killedAfter: number[] = [];
    let finishedEarly = false;
    for (let k = 0; k < KILLS; k++) {
      const { child, done } = startCli(args, env);
      const delay = 400 + Math.floor(random() * 2500);
      const timer = setTimeout(() => child.kill('SIGKILL'), delay);
      const r = await done;
      clearTimeout(timer);
      if (r.signal === 'SIGKILL') killedAfter.push(delay);
      else {
        expect(r.code, r.stderr).toBe(0);
        finishedEarly = true;
        break;
      }
    }
    const final = await runCli([...args, '--json'], env);
    expect(final.code, final.stderr).toBe(0);
    // Most kills must have hit a run in progress, or the test proves nothing.
    expect(killedAfter.length).toBeGreaterThanOrEqual(finishedEarly ? 3 : KILLS);

    const counts = await t.pg.query<{ orders: string; items: string; history: string; mapped: string; distinct_uuid: string; rejects: string; written: string }>(`
      SELECT (SELECT count(*) FROM orders) AS orders,
             (SELECT count(*) FROM order_items) AS items,
             (SELECT count(*) FROM order_status_history) AS history,
             (SELECT count(*) FROM hybrid_migrate.id_map WHERE collection = 'orders') AS mapped,
             (SELECT count(DISTINCT uuid) FROM hybrid_migrate.id_map WHERE collection = 'orders') AS distinct_uuid,
             (SELECT count(*) FROM hybrid_migrate.rejects) AS rejects,
             (SELECT sum(docs_written) FROM hybrid_migrate.checkpoints WHERE collection = 'orders') AS written`);
    expect(counts.rows[0]).toEqual({ orders: String(DOCS), items: String(DOCS), history: String(DOCS), mapped: String(DOCS), distinct_uuid: String(DOCS), rejects: '0', written: String(DOCS) });

    // Every source document is there, under the UUID its _id determines.
    const sourceIds = new Set<string>();
    for await (const d of t.db.collection('orders').find({}, { projection: { _id: 1 } })) sourceIds.add(`oid:${(d._id as ObjectId).toHexString()}`);
    const mapped = await t.pg.query<{ source_key: string }>(`SELECT source_key FROM hybrid_migrate.id_map WHERE collection = 'orders'`);
    expect(mapped.rows.length).toBe(sourceIds.size);
    expect(mapped.rows.every((r) => sourceIds.has(r.source_key))).toBe(true);
    const orphanRows = await t.pg.query(`SELECT o.id FROM orders o LEFT JOIN hybrid_migrate.id_map m ON m.uuid = o.id WHERE m.uuid IS NULL`);
    expect(orphanRows.rows).toEqual([]);
    const done = await t.pg.query(`SELECT count(*)::int AS n FROM hybrid_migrate.checkpoints WHERE collection = 'orders' AND status <> 'done'`);
    expect(done.rows[0]).toEqual({ n: 0 });
  }, 900_000);
});
