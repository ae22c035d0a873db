/**
 * Bounded waits (issue 17): an application transaction holding a lock on a target table ends
 * migrate and rollback after --lock-timeout with exit 7, naming the blocking session (pid,
 * application_name, query, since when); a statement_timeout set on the database ends a batch
 * with exit 7 naming the setting and the fix; a PostgreSQL session killed mid-run is exit 4
 * naming PostgreSQL; both databases unreachable names both.
 */
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, startCli } from '../support/cli.js';
import { withOrders } from '../support/crash-checks.js';
import { connect } from '../../src/cli/context.js';

/** A session of "the application" that holds a lock on `table` until release(). */
async function holdTableLock(databaseUrl: string, table: string, mode = 'SHARE ROW EXCLUSIVE'): Promise<{ pid: number; release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'shop-app-blocker' });
  client.on('error', () => undefined);
  await client.connect();
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid as number;
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN ${mode} MODE`);
  return {
    pid,
    async release() {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

describe('lock_timeout: a lock held by the application ends the run with exit 7, naming the blocker', () => {
  it('migrate --lock-timeout 1s: exit 7 within seconds, the blocker named, nothing of the collection written nor checkpointed done', async () => {
    await withOrders(300, async (db, env) => {
      expect((await runCli(['migrate', 'workspaces'], env)).code).toBe(0);
      const blocker = await holdTableLock(db.databaseUrl, 'orders');
      try {
        const r = await runCli(['migrate', 'orders', '--lock-timeout', '1s'], env);
        expect(r.code, r.stderr).toBe(7);
        expect(r.ms).toBeLessThan(30_000);
        expect(r.stderr).toMatch(/lock_timeout/);
        expect(r.stderr).toMatch(/collection "orders"/);
        expect(r.stderr).toContain(`pid ${blocker.pid}`);
        expect(r.stderr).toContain('application_name "shop-app-blocker"');
        expect(r.stderr).toMatch(/LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE/);
        expect(r.stderr).toMatch(/since \d{4}-\d\d-\d\dT/);
        expect(r.stderr).toMatch(/--lock-timeout/);
        expect(r.stderr).not.toMatch(/DeprecationWarning/);
      } finally {
        await blocker.release();
      }
      const rows = await db.pg.query(`SELECT (SELECT count(*)::int FROM orders) AS orders,
        (SELECT count(*)::int FROM hybrid_migrate.checkpoints WHERE collection = 'orders' AND status = 'done') AS done`);
      expect(rows.rows[0]).toEqual({ orders: 0, done: 0 });
      // Once the application committed, the same command completes.
      const next = await runCli(['migrate', 'orders'], env);
      expect(next.code, next.stderr).toBe(0);
      expect((await db.pg.query('SELECT count(*)::int AS n FROM orders')).rows[0]).toEqual({ n: 300 });
    });
  });

  it('the tool sets lock_timeout on its sessions: 30 s by default, the option overrides, 0 waits without limit', async () => {
    await withOrders(1, async (db, env) => {
      // DATABASE_URL's own startup options are kept beside the tool's.
      const withOptions = new URL(env.DATABASE_URL);
      withOptions.searchParams.set('options', '-c work_mem=8MB');
      for (const [url, lockTimeoutMs, expected] of [[env.DATABASE_URL, undefined, '30s'], [env.DATABASE_URL, 1500, '1500ms'], [env.DATABASE_URL, 0, '0'], [withOptions.toString(), 2000, '2s']] as const) {
        const conns = await connect({ ...env, DATABASE_URL: url }, { command: 'test', lockTimeoutMs });
        if (url !== env.DATABASE_URL) expect((await conns.pg.pool.query<{ work_mem: string }>('SHOW work_mem')).rows[0]?.work_mem).toBe('8MB');
        try {
          // Every session of the pool, not just the first.
          const clients = await Promise.all([conns.pg.pool.connect(), conns.pg.pool.connect()]);
          for (const c of clients) expect((await c.query<{ lock_timeout: string }>('SHOW lock_timeout')).rows[0]?.lock_timeout).toBe(expected);
          for (const c of clients) c.release();
        } finally {
          await conns.close();
        }
      }
    });
  });

  it("the configuration's lockTimeout applies when the flag is not given; a bad value is exit 3 naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-lock-timeout-'));
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const configFor = (value: string) => {
      const file = join(dir, `config-${value.replace(/\W/g, '')}.ts`);
      writeFileSync(file, `import base from ${JSON.stringify(join(root, 'hybrid-migrate.config.ts'))};\nexport default { ...base, schema: ${JSON.stringify(join(root, 'prisma/schema.prisma'))}, lockTimeout: ${JSON.stringify(value)} };\n`);
      return file;
    };
    try {
      await withOrders(50, async (db, env) => {
        expect((await runCli(['migrate', 'workspaces'], env)).code).toBe(0);
        const bad = await runCli(['--config', configFor('soon'), 'migrate', 'orders'], env);
        expect(bad.code, bad.stderr).toBe(3);
        expect(bad.stderr).toMatch(/lockTimeout: must be a duration/);
        const blocker = await holdTableLock(db.databaseUrl, 'orders');
        try {
          const r = await runCli(['--config', configFor('1500ms'), 'migrate', 'orders'], env);
          expect(r.code, r.stderr).toBe(7);
          expect(r.stderr).toMatch(/gave up waiting 1\.5 s \(lock_timeout\)/);
          expect(r.stderr).toContain(`pid ${blocker.pid}`);
        } finally {
          await blocker.release();
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rollback --lock-timeout 1s: exit 7 naming the blocker; after it ends, the rollback completes', async () => {
    await withOrders(200, async (db, env) => {
      expect((await runCli(['migrate', '--skip-missing-collections'], env)).code).toBe(0);
      const blocker = await holdTableLock(db.databaseUrl, 'orders');
      try {
        const r = await runCli(['rollback', 'orders', '--lock-timeout', '1s'], env);
        expect(r.code, r.stderr).toBe(7);
        expect(r.stderr).toContain(`pid ${blocker.pid}`);
        expect(r.stderr).toContain('shop-app-blocker');
        // Said as what rollback does (it read "while writing … the batch was not written", migrate's words).
        expect(r.stderr).toMatch(/while rolling back collection "orders"; that batch was not deleted/);
      } finally {
        await blocker.release();
      }
      const next = await runCli(['rollback', 'orders'], env);
      expect(next.code, next.stderr).toBe(0);
      expect((await db.pg.query('SELECT count(*)::int AS n FROM orders')).rows[0]).toEqual({ n: 0 });
    });
  });
});

describe('verify --lock-timeout: a table locked by a migration of the schema (ALTER TABLE) ends verify with exit 7', () => {
  it('names the blocker instead of waiting for it', async () => {
    await withOrders(50, async (db, env) => {
      expect((await runCli(['migrate', '--skip-missing-collections'], env)).code).toBe(0);
      const blocker = await holdTableLock(db.databaseUrl, 'orders', 'ACCESS EXCLUSIVE');
      try {
        const r = await runCli(['verify', 'orders', '--lock-timeout', '1s', '--no-report'], env);
        expect(r.code, r.stderr).toBe(7);
        expect(r.stderr).toMatch(/lock_timeout/);
        expect(r.stderr).toContain(`pid ${blocker.pid}`);
        expect(r.stderr).toMatch(/LOCK TABLE orders IN ACCESS EXCLUSIVE MODE/);
      } finally {
        await blocker.release();
      }
      expect((await runCli(['verify', 'orders', '--no-report'], env)).code).toBe(0);
    });
  });
});

describe('status --lock-timeout: a table locked by the application is reported once, not waited for again', () => {
  it('shows what it could read, names the lock once and reads nothing else of that table', async () => {
    await withOrders(50, async (db, env) => {
      expect((await runCli(['migrate', '--skip-missing-collections'], env)).code).toBe(0);
      const blocker = await holdTableLock(db.databaseUrl, 'orders', 'ACCESS EXCLUSIVE');
      try {
        const r = await runCli(['status', 'orders', '--lock-timeout', '1s', '--json'], env);
        expect(r.code, r.stderr).toBe(0);
        const orders = (JSON.parse(r.stdout) as { collections: { name: string; problems: string[]; checkpoints: { done: number } | null }[] }).collections.find((c) => c.name === 'orders');
        // The counts waited for the lock once; the table size was not asked for (it would wait again).
        expect(orders?.problems.filter((p) => /lock timeout/i.test(p))).toHaveLength(1);
        expect(orders?.problems).toContain('table size: not read: table "orders" is locked by another session (above)');
        // The tool's own state is not locked: still shown.
        expect(orders?.checkpoints).toMatchObject({ done: 1 });
      } finally {
        await blocker.release();
      }
      const free = await runCli(['status', 'orders', '--json'], env);
      expect(free.code, free.stderr).toBe(0);
      expect((JSON.parse(free.stdout) as { collections: { name: string; problems: string[] }[] }).collections.find((c) => c.name === 'orders')?.problems).toEqual([]);
    });
  });
});

describe('statement_timeout set on the database: exit 7 naming the setting, the collection and the fix', () => {
  it('a batch slower than statement_timeout', async () => {
    await withOrders(300, async (db, env) => {
      expect((await runCli(['migrate', 'workspaces'], env)).code).toBe(0);
      const dbName = new URL(db.databaseUrl).pathname.slice(1);
      // Each statement that writes orders takes 3 s; the database allows 1 s.
      await db.pg.query(`CREATE FUNCTION slow_orders() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$`);
      await db.pg.query(`CREATE TRIGGER slow_orders BEFORE INSERT ON orders FOR EACH STATEMENT EXECUTE FUNCTION slow_orders()`);
      await db.pg.query(`ALTER DATABASE "${dbName}" SET statement_timeout = '1s'`);
      const r = await runCli(['migrate', 'orders'], env);
      expect(r.code, r.stderr).toBe(7);
      expect(r.stderr).toMatch(/statement_timeout \(1000ms, set by the database configuration\)/);
      expect(r.stderr).toMatch(/collection "orders"/);
      expect(r.stderr).toMatch(/ALTER ROLE/);
      expect(r.stderr).not.toMatch(/^error: canceling statement due to statement timeout$/m);
      await db.pg.query(`ALTER DATABASE "${dbName}" RESET statement_timeout`);
    });
  });
});

/** Polls until one of the tool's sessions waits for a lock (the blocked batch is in flight). */
async function untilToolWaitsOnLock(pool: pg.Pool): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const w = await pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'hybrid-migrate migrate%' AND wait_event_type = 'Lock'`);
    if (w.rows.length > 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the tool never waited on the lock');
}

describe('SIGTERM while a batch waits for a lock: exit 130 within seconds, committed batches kept', () => {
  it('migrate --lock-timeout 0 (waits without limit): the blocked batch is canceled and rolled back, the collections before it stay done', async () => {
    await withOrders(300, async (db, env) => {
      const blocker = await holdTableLock(db.databaseUrl, 'orders');
      const run = startCli(['migrate', 'workspaces', 'orders', '--lock-timeout', '0', '--concurrency', '1'], env);
      let r;
      try {
        await untilToolWaitsOnLock(db.pg);
        const signaled = Date.now();
        run.child.kill('SIGTERM');
        r = await run.done;
        // Before, it waited until the lock was released: forever here (the blocker is still holding it).
        expect(Date.now() - signaled).toBeLessThan(15_000);
      } finally {
        await blocker.release();
      }
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toMatch(/^error: interrupted \(SIGTERM\) while a statement waited for a lock/m);
      expect(r.stderr).toMatch(/^hint: rerun the same command/m);
      const state = await db.pg.query(`SELECT (SELECT count(*)::int FROM workspaces) AS workspaces, (SELECT count(*)::int FROM orders) AS orders,
        (SELECT count(*)::int FROM hybrid_migrate.checkpoints WHERE collection = 'workspaces' AND status = 'done') AS ws_done`);
      expect(state.rows[0]).toEqual({ workspaces: 1, orders: 0, ws_done: 1 });
      const next = await runCli(['migrate', 'orders'], env);
      expect(next.code, next.stderr).toBe(0);
      expect((await db.pg.query('SELECT count(*)::int AS n FROM orders')).rows[0]).toEqual({ n: 300 });
    });
  });
});

describe('--max-duration is a hard deadline, waits included', () => {
  it('a batch still waiting for a lock when it passes is canceled: exit 7 naming --max-duration and the blocker, committed collections kept', async () => {
    await withOrders(300, async (db, env) => {
      const blocker = await holdTableLock(db.databaseUrl, 'orders');
      let r;
      try {
        // lock_timeout 0 waits without limit: before, this run waited for the lock forever.
        const run = startCli(['migrate', 'workspaces', 'orders', '--lock-timeout', '0', '--max-duration', '3s', '--concurrency', '1'], env);
        await untilToolWaitsOnLock(db.pg);
        r = await run.done;
      } finally {
        await blocker.release();
      }
      expect(r.code, r.stderr).toBe(7);
      expect(r.stderr).toMatch(/--max-duration \(3 s\) passed while a batch was waiting for a lock/);
      expect(r.stderr).toContain(`pid ${blocker.pid}`);
      const state = await db.pg.query(`SELECT (SELECT count(*)::int FROM workspaces) AS workspaces, (SELECT count(*)::int FROM orders) AS orders`);
      expect(state.rows[0]).toEqual({ workspaces: 1, orders: 0 });
      expect((await runCli(['migrate', 'orders'], env)).code).toBe(0);
    });
  });
});

describe('a PostgreSQL session killed mid-run: exit 4 naming PostgreSQL', () => {
  it('the batch waiting on a lock loses its session', async () => {
    await withOrders(300, async (db, env) => {
      expect((await runCli(['migrate', 'workspaces'], env)).code).toBe(0);
      const blocker = await holdTableLock(db.databaseUrl, 'orders');
      const run = startCli(['migrate', 'orders', '--lock-timeout', '0', '--concurrency', '1'], env);
      try {
        // Wait until the tool's write waits on the lock, then end every session of the tool.
        for (let i = 0; i < 200; i++) {
          await new Promise((r) => setTimeout(r, 100));
          const w = await db.pg.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'hybrid-migrate%' AND wait_event_type = 'Lock'`);
          if (w.rows.length > 0) break;
        }
        await db.pg.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'hybrid-migrate%' AND pid <> pg_backend_pid()`);
        const r = await run.done;
        expect(r.code, r.stderr).toBe(4);
        expect(r.stderr).toMatch(/^error: .*PostgreSQL/m);
      } finally {
        await blocker.release();
      }
      const next = await runCli(['migrate', 'orders'], env);
      expect(next.code, next.stderr).toBe(0);
    });
  });
});

describe('both databases unreachable', () => {
  it('the message names MongoDB and PostgreSQL', async () => {
    const r = await runCli(['migrate', 'orders'], {
      MONGO_URI: 'mongodb://127.0.0.1:9/shop?directConnection=true&serverSelectionTimeoutMS=500',
      DATABASE_URL: 'postgresql://app:Sekr1tPw@127.0.0.1:9/shop?connect_timeout=2',
    });
    expect(r.code, r.stderr).toBe(4);
    const error = r.stderr.split('\n').find((l) => l.startsWith('error: ')) ?? '';
    expect(error).toMatch(/^error: neither database could be reached: /);
    expect(error).toMatch(/MongoDB/);
    expect(error).toMatch(/PostgreSQL/);
    expect(r.stderr).toMatch(/^hint: .*MONGO_URI.*DATABASE_URL/m);
    expect(r.stderr).not.toContain('Sekr1tPw');
  });
});
