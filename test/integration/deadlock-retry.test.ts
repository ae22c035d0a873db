/**
 * A batch PostgreSQL rolls back to break a deadlock is written again. Two `_id` ranges writing
 * the same unique key (two clients sharing a workspace and an empty phone, one in each range)
 * deadlocked inside their COPYs on a MongoDB-class server: every fresh ranged migrate stopped
 * with exit 6 ("deadlock detected"), where one range sets the duplicate aside as a reject.
 */
import { describe, expect, it } from 'vitest';
import { skipUnlessRealMongo, useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { retryTransient } from '../../src/target/batch-writer.js';
import { withTransaction } from '../../src/target/transaction.js';
import { generateFixtures } from '../../dev/fixtures/generate.js';

const t = useTestDatabases();

describe('a transaction rolled back by a deadlock', () => {
  it('is run again, once the other transaction could go on; other errors are not', async () => {
    await t.pg.query('CREATE TABLE deadlock_keys (k int PRIMARY KEY)');
    const other = await t.pg.connect();
    try {
      // The other side waits long before looking for a deadlock: this side finds it and is rolled back.
      await other.query('BEGIN');
      await other.query(`SET LOCAL deadlock_timeout = '10s'`);
      await other.query('INSERT INTO deadlock_keys VALUES (1)');
      const otherPid = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid as number;
      let attempts = 0;
      let otherInsert: Promise<unknown> | undefined;
      await retryTransient(() =>
        withTransaction(t.pg, async (c) => {
          attempts++;
          await c.query(`SET LOCAL deadlock_timeout = '50ms'`);
          if (attempts > 1) {
            await c.query('INSERT INTO deadlock_keys VALUES (3)');
            return;
          }
          await c.query('INSERT INTO deadlock_keys VALUES (2)');
          // The other side now waits for this one's 2, and this one for the other's 1.
          otherInsert = other.query('INSERT INTO deadlock_keys VALUES (2)');
          await waitUntilBlocked(otherPid);
          await c.query('INSERT INTO deadlock_keys VALUES (1)');
        }),
      );
      expect(attempts).toBe(2);
      await otherInsert;
      await other.query('COMMIT');
    } finally {
      other.release();
    }
    expect((await t.pg.query('SELECT k FROM deadlock_keys ORDER BY k')).rows.map((r) => r.k)).toEqual([1, 2, 3]);

    let tries = 0;
    await expect(retryTransient(() => withTransaction(t.pg, async (c) => void (tries++, await c.query('INSERT INTO deadlock_keys VALUES (1)'))))).rejects.toMatchObject({ code: '23505' });
    expect(tries).toBe(1);
  });

  it('_id ranges writing the same unique keys: migrate completes, the duplicates set aside as with one range', async (ctx) => {
    skipUnlessRealMongo(ctx, 'FerretDB v1 always reads a collection as one range (it cannot serve _id ranges from an index)');
    // The legacy fixtures: clients sharing a workspace and an empty phone (the unique key is
    // workspace + phone) all through the collection, so in every range. Before: exit 6,
    // "deadlock detected", on every such run (and with smaller batches an uncaught
    // MongoCursorExhaustedError, exit 1).
    await generateFixtures({ db: t.db, scale: 20000, seed: 3, realMongo: true });
    const env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
    const r = await runCli(['migrate', '--partition-size', '3000', '--ranges', '3', '--batch-size', '1000', '--json'], env);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const collections = JSON.parse(r.stdout).collections as { name: string; read: number; migrated: number; rejected: number }[];
    const clients = collections.find((c) => c.name === 'clients');
    expect(clients?.rejected).toBeGreaterThan(0);
    for (const c of collections) expect(c.migrated + c.rejected, c.name).toBe(c.read);
    expect((await t.pg.query(`SELECT count(DISTINCT partition)::int AS n FROM hybrid_migrate.checkpoints WHERE collection = 'clients'`)).rows[0]?.n).toBeGreaterThan(1);
    expect((await t.pg.query('SELECT count(*)::int AS n FROM clients')).rows[0]?.n).toBe(clients?.migrated);
    const refused = await t.pg.query(`SELECT count(*)::int AS n FROM hybrid_migrate.rejects WHERE collection = 'clients' AND reason LIKE '%clients_workspace_id_phone_key%'`);
    expect(refused.rows[0]?.n).toBeGreaterThan(0);
  }, 240_000);
});

/** Until the backend `pid` waits for a lock. */
async function waitUntilBlocked(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const r = await t.pg.query(`SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1`, [pid]);
    if (r.rows[0]?.wait_event_type === 'Lock') return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`backend ${pid} never waited for a lock`);
}
