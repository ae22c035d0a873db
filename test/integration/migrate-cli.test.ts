/**
 * The CLI's contract as operators and cron see it: exit codes, what reaches stdout and
 * stderr, locks, dry runs, interruptions and bad input — always through the real binary.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, skipUnlessRealMongo, useTestDatabases } from '../support/databases.js';
import { BIN, mongoUriFor, runCli, startCli } from '../support/cli.js';
import { spawn } from 'node:child_process';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { lockKey } from '../../src/state/collection-lock.js';
import { STATE_LOCK_CLASS } from '../../src/state/schema.js';
import { defaultRangeCount } from '../../src/source/partitions.js';
import { objectIdToUuid } from '../../src/core/ids.js';
import type { ObjectId } from 'mongodb';

const t = useTestDatabases();
let env: { MONGO_URI: string; DATABASE_URL: string };

beforeAll(async () => {
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  await insertSimpleOrders(t.db, 3000);
});

async function stateSchemaExists(pool = t.pg): Promise<boolean> {
  const r = await pool.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'hybrid_migrate'`);
  return r.rows.length > 0;
}

describe('migrate --dry-run', () => {
  it('reads and converts everything and writes nothing, not even its own state', async () => {
    const r = await runCli(['migrate', 'workspaces', 'orders', '--dry-run', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { dryRun: boolean; collections: { name: string; read: number; migrated: number; rejected: number; durationMs: number }[] };
    expect(out.dryRun).toBe(true);
    expect(out.collections.map((c) => [c.name, c.read])).toEqual([['workspaces', 1], ['orders', 3000]]);
    // The workspace the orders reference is not written, but it exists in the source and would be migrated first.
    expect(out.collections[1]).toMatchObject({ migrated: 3000, rejected: 0 });
    expect(await stateSchemaExists()).toBe(false);
    const rows = await t.pg.query(`SELECT (SELECT count(*) FROM workspaces) + (SELECT count(*) FROM orders) AS n`);
    expect(rows.rows[0]).toEqual({ n: '0' });
  });

  it('says where the time went: waiting for MongoDB, converting, writing', async () => {
    const r = await runCli(['migrate', 'orders', '--dry-run', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const [orders] = JSON.parse(r.stdout).collections as { timings: Record<string, number> }[];
    expect(Object.keys(orders?.timings ?? {}).sort()).toEqual(['convertMs', 'sourceWaitMs', 'writeMs']);
    // 3,000 documents take measurable time to arrive and to convert.
    expect(orders?.timings.sourceWaitMs).toBeGreaterThan(0);
    expect(orders?.timings.convertMs).toBeGreaterThan(0);
    expect(orders?.timings.writeMs).toBeGreaterThanOrEqual(0);
    const human = await runCli(['migrate', 'orders', '--dry-run'], env);
    expect(human.code, human.stderr).toBe(0);
    // Shown once the measured time is worth reading (a second or more).
    const shares = /orders: waiting for MongoDB (\d+)%, converting (\d+)%, writing to PostgreSQL (\d+)%/.exec(human.stdout);
    if (shares) expect(Number(shares[1]) + Number(shares[2]) + Number(shares[3])).toBeGreaterThanOrEqual(99);
    else expect(human.stdout).not.toContain('Where the time went');
  });
});

describe('_id ranges', () => {
  it('splits a collection into at most --ranges ranges, by default one per two CPU cores', async (ctx) => {
    skipUnlessRealMongo(ctx, 'FerretDB v1 always reads a collection as one range (it cannot serve _id ranges from an index)');
    const own = await createTestDatabases();
    try {
      await insertSimpleOrders(own.db, 600);
      const ownEnv = { MONGO_URI: mongoUriFor(own.mongoUri, own.mongoDbName), DATABASE_URL: own.databaseUrl };
      const ranges = async () => (await own.pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM hybrid_migrate.checkpoints WHERE collection = 'orders'`)).rows[0]?.n;
      const orders = async () => (await own.pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM orders`)).rows[0]?.n;
      expect((await runCli(['migrate', 'workspaces', '--json'], ownEnv)).code).toBe(0);
      // 600 documents in ranges of 100: six ranges, unless fewer are allowed.
      const three = await runCli(['migrate', 'orders', '--partition-size', '100', '--ranges', '3', '--json'], ownEnv);
      expect(three.code, three.stderr).toBe(0);
      expect(await ranges()).toBe(3);
      expect(await orders()).toBe(600);
      const byDefault = await runCli(['migrate', 'orders', '--restart', '--partition-size', '100', '--json'], ownEnv);
      expect(byDefault.code, byDefault.stderr).toBe(0);
      expect(await ranges()).toBe(Math.min(6, defaultRangeCount()));
      expect(await orders()).toBe(600);
    } finally {
      await own.drop();
    }
  });
});

describe('output nobody reads', () => {
  it('a closed stdout (`| head -1`) is no crash: the command ends with its own exit code', async () => {
    // Before: "Error: write EPIPE" (an unhandled 'error' event), a stack trace and exit 1.
    const child = spawn(process.execPath, [BIN, 'migrate', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
    expect(code).toBe(0);
  });
});

describe('a range that fails', () => {
  it('stops the other ranges at their next batch: exit 6 with the error, no crash on a closed cursor; a rerun completes exactly once', async (ctx) => {
    skipUnlessRealMongo(ctx, 'FerretDB v1 always reads a collection as one range (it cannot serve _id ranges from an index)');
    // Before: the other ranges went on reading after the command had closed its connections,
    // and a read-ahead failed on a closed cursor: MongoCursorExhaustedError, a stack trace, exit 1.
    const own = await createTestDatabases();
    try {
      await insertSimpleOrders(own.db, 1200);
      const ownEnv = { MONGO_URI: mongoUriFor(own.mongoUri, own.mongoDbName), DATABASE_URL: own.databaseUrl };
      expect((await runCli(['migrate', 'workspaces', '--json'], ownEnv)).code).toBe(0);
      const ids = await own.db.collection('orders').find({}, { projection: { _id: 1 }, sort: { _id: 1 } }).toArray();
      const poisoned = objectIdToUuid(ids[Math.floor(ids.length * 0.6)]?._id as ObjectId);
      await own.pg.query(`CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = '${poisoned}' THEN RAISE EXCEPTION 'refused by a trigger of the test'; END IF; RETURN NEW; END $$`);
      await own.pg.query('CREATE TRIGGER refuse_one BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION refuse_one()');
      const r = await runCli(['migrate', 'orders', '--partition-size', '300', '--ranges', '4', '--batch-size', '20', '--json'], ownEnv);
      expect(r.code, r.stderr.slice(-2000)).toBe(6);
      expect(r.stderr).toMatch(/refused by a trigger of the test/);
      expect(r.stderr).not.toMatch(/MongoCursorExhausted|Cursor is exhausted|\n\s+at /);
      await own.pg.query('DROP TRIGGER refuse_one ON orders');
      const again = await runCli(['migrate', 'orders', '--partition-size', '300', '--ranges', '4', '--batch-size', '20', '--json'], ownEnv);
      expect(again.code, again.stderr.slice(-2000)).toBe(0);
      const counts = await own.pg.query<{ rows: number; registered: number }>(`SELECT (SELECT count(*)::int FROM orders) AS rows, (SELECT count(*)::int FROM hybrid_migrate.id_map WHERE collection = 'orders') AS registered`);
      expect(counts.rows[0]).toEqual({ rows: 1200, registered: 1200 });
    } finally {
      await own.drop();
    }
  });
});

describe('locks', () => {
  it('exits 5 at once, naming the holder, when another session holds the collection', async () => {
    const holder = await t.pg.connect();
    try {
      await holder.query(`SET application_name = 'hybrid-migrate migrate pid=4242'`);
      await holder.query('SELECT pg_advisory_lock($1::int, $2::int)', [STATE_LOCK_CLASS, lockKey('orders')]);
      // A run that loads the same configuration and schema and exits 3 (an unknown collection), launched with it:
      // what starting a migrate costs on this machine right now, so only the waiting is measured.
      const [baseline, r] = await Promise.all([runCli(['migrate', 'no_such_collection'], env), runCli(['migrate', 'orders'], env)]);
      expect(r.code).toBe(5);
      expect(baseline.code).toBe(3);
      expect(r.ms - baseline.ms).toBeLessThan(5000);
      expect(r.stderr).toMatch(/Collection "orders" is locked by hybrid-migrate migrate pid=4242/);
    } finally {
      await holder.query('SELECT pg_advisory_unlock_all()');
      holder.release();
    }
  });

  it('lets exactly one of two concurrent runs work; the other exits 5', async () => {
    // The first run's writes wait on a table lock the test holds, so it still holds the collection
    // when the second starts, however fast the source is.
    const blocker = await t.pg.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE');
    const first = startCli(['migrate', 'workspaces', 'orders', '--batch-size', '50'], env);
    try {
      // Wait until the first run holds its locks (it has started reading).
      await new Promise<void>((resolve) => {
        const onData = (d: Buffer) => d.toString().includes('collection started') && resolve();
        first.child.stderr?.on('data', onData);
      });
      const second = await runCli(['migrate', 'orders'], env);
      expect(second.code, second.stderr).toBe(5);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    const r = await first.done;
    expect(r.code, r.stderr).toBe(0);
    const n = await t.pg.query(`SELECT count(*)::int AS n FROM orders`);
    expect(n.rows[0]).toEqual({ n: 3000 });
  });
});

describe('interruption', () => {
  it('on SIGINT lets in-flight batches commit, exits 130, and the rerun completes', async () => {
    const db = await createTestDatabases();
    try {
      await insertSimpleOrders(db.db, 4000);
      const e = { MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl };
      const run = startCli(['migrate', '--skip-missing-collections', '--batch-size', '100', '--concurrency', '1'], e);
      await new Promise<void>((resolve) => run.child.stderr?.on('data', (d: Buffer) => d.toString().includes('"collection":"orders"') && resolve()));
      await new Promise((r) => setTimeout(r, 300));
      run.child.kill('SIGINT');
      const r = await run.done;
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toMatch(/finishing in-flight batches/);
      const partial = await db.pg.query<{ n: number; written: number }>(`SELECT (SELECT count(*)::int FROM orders) AS n, (SELECT sum(docs_written)::int FROM hybrid_migrate.checkpoints WHERE collection = 'orders') AS written`);
      expect(partial.rows[0]?.n).toBeLessThan(4000);
      expect(partial.rows[0]?.n).toBe(partial.rows[0]?.written); // checkpoint and data agree
      const again = await runCli(['migrate', '--skip-missing-collections'], e);
      expect(again.code, again.stderr).toBe(0);
      const n = await db.pg.query(`SELECT count(*)::int AS n FROM orders`);
      expect(n.rows[0]).toEqual({ n: 4000 });
    } finally {
      await db.drop();
    }
  });
});

describe('rejects limit', () => {
  it('stops with exit code 1 once more documents than --max-rejects are rejected', async () => {
    const db = await createTestDatabases();
    try {
      await insertSimpleOrders(db.db, 500, { badEvery: 10 });
      const e = { MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl };
      const r = await runCli(['migrate', '--skip-missing-collections', '--max-rejects', '5', '--batch-size', '100', '--json'], e);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/more than 5 documents rejected/);
      expect(JSON.parse(r.stdout)).toMatchObject({ maxRejectsExceeded: true });
      const rejects = await db.pg.query(`SELECT field_path, count(*)::int AS n FROM hybrid_migrate.rejects GROUP BY 1`);
      expect(rejects.rows[0]).toMatchObject({ field_path: 'status' });
      expect(rejects.rows[0]?.n).toBeGreaterThan(5);
    } finally {
      await db.drop();
    }
  });
});

describe('bad input', () => {
  const secret = 'S3cr3t!p@ss%2F';
  const forms = [secret, encodeURIComponent(secret), decodeURIComponent(secret), Buffer.from(secret).toString('base64')];

  it('an unreachable PostgreSQL: exit 4 within 10 s, one line naming it, password masked', async () => {
    const r = await runCli(['migrate'], { MONGO_URI: env.MONGO_URI, DATABASE_URL: `postgresql://app:${secret}@127.0.0.1:1/shop` });
    expect(r.code).toBe(4);
    expect(r.ms).toBeLessThan(10_000);
    expect(r.stderr).toMatch(/^error: PostgreSQL \(postgresql:\/\/app:\*\*\*@127\.0\.0\.1:1\/shop\)/);
    for (const f of forms) expect(r.stdout + r.stderr).not.toContain(f);
  });

  it('an unreachable MongoDB: exit 4 after the 5 s server selection, not later, password masked', async () => {
    // Against a run that loads the same configuration and schema and exits 3, launched with it:
    // the 5 s server selection is measured, not how long starting Node takes on a loaded machine.
    const [baseline, r] = await Promise.all([
      runCli(['migrate', 'no_such_collection'], env),
      runCli(['migrate'], { MONGO_URI: `mongodb://app:${secret}@127.0.0.1:1/shop?directConnection=true`, DATABASE_URL: env.DATABASE_URL }),
    ]);
    expect(r.code).toBe(4);
    expect(baseline.code).toBe(3);
    expect(r.ms - baseline.ms).toBeLessThan(8_000);
    expect(r.stderr).toMatch(/^error: MongoDB \(mongodb:\/\/app:\*\*\*@127\.0\.0\.1:1\/shop\)/);
    for (const f of forms) expect(r.stdout + r.stderr).not.toContain(f);
  });

  it('credentials PostgreSQL refuses: exit 4, password masked', async () => {
    // These machines trust local connections, so the refusal is forced with a role that does not exist.
    const url = new URL(t.databaseUrl);
    url.username = `hm_nobody_${Date.now()}`;
    url.password = encodeURIComponent(secret);
    const r = await runCli(['migrate'], { MONGO_URI: env.MONGO_URI, DATABASE_URL: url.toString() });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^error: PostgreSQL \(postgresql:\/\/hm_nobody_\d+:\*\*\*@/);
    for (const f of forms) expect(r.stdout + r.stderr).not.toContain(f);
  });

  it('a configuration with several problems: exit 3 listing them all, before any write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-config-'));
    const file = join(dir, 'hybrid-migrate.config.mjs');
    writeFileSync(
      file,
      `export default { schema: ${JSON.stringify(join(process.cwd(), 'prisma/schema.prisma'))}, batchSize: 0, colections: {}, collections: { orders: { model: 'Nope' }, clients: { fields: { nosuch: 'x' } } } };\n`,
    );
    const db = await createTestDatabases();
    try {
      const r = await runCli(['--config', file, 'migrate'], { MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/batchSize: must be an integer from 1 to 100000, got 0/);
      expect(r.stderr).toMatch(/colections: unknown setting/);
      expect(await stateSchemaExists(db.pg)).toBe(false);
      // Fix the shape errors: the model errors are then all listed too.
      writeFileSync(file, `export default { schema: ${JSON.stringify(join(process.cwd(), 'prisma/schema.prisma'))}, collections: { orders: { model: 'Nope' }, clients: { fields: { nosuch: 'x' } } } };\n`);
      const r2 = await runCli(['--config', file, 'migrate'], { MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl });
      expect(r2.code).toBe(3);
      expect(r2.stderr).toMatch(/collections\.orders\.model: model "Nope" is not in the Prisma schema/);
      expect(r2.stderr).toMatch(/collections\.clients\.fields\.nosuch: model "Client" has no scalar field "nosuch"/);
      expect(await stateSchemaExists(db.pg)).toBe(false);
    } finally {
      await db.drop();
    }
  });

  it('an unknown flag or a bad number: exit 2 with usage help', async () => {
    const r = await runCli(['migrate', '--batch-size', '0'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--batch-size must be an integer from 1 to 100000/);
    const r2 = await runCli(['migrate', '--no-such-flag'], env);
    expect(r2.code).toBe(2);
  });

  it('no command at all: exit 2 with the usage (it exited 0, so a script with a dropped argument passed); --help exits 0', async () => {
    for (const args of [[], ['--json']]) {
      const r = await runCli(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout + r.stderr).toMatch(/Usage: hybrid-migrate/);
    }
    expect((await runCli(['--help'], env)).code).toBe(0);
  });
});
