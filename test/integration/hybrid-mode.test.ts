/**
 * The application-facing helpers against the real servers: combined reads during a
 * half-finished migration (every record exactly once, in order, page after page) and the
 * extended health check. The PostgreSQL side is a real generated Prisma 7 client (adapter-pg)
 * in one test and a small pg-backed delegate with the same `findMany` shape in the others.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoUriFor } from '../support/cli.js';
import { createTestDatabases, useTestDatabases } from '../support/databases.js';
import { REPO_ROOT, runMigrate } from '../support/migration.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { objectIdToUuid } from '../../src/core/ids.js';
import { healthCheck, InvalidCursorError, readCombined, type CombinedReadOptions } from '../../src/index.js';

const t = useTestDatabases();
const BASE = Date.UTC(2020, 0, 1);
let ws: ObjectId;
let wsUuid: string;

/** A `prisma.order`-shaped delegate over pg: the subset of Prisma's where/orderBy/take readCombined uses. */
function pgOrders(pool: pg.Pool) {
  const columns: Record<string, string> = { id: 'id', createdAt: 'created_at', workspaceId: 'workspace_id', clientName: 'client_name' };
  const col = (f: string) => {
    const c = columns[f];
    if (!c) throw new Error(`unknown field ${f}`);
    return c;
  };
  const where = (w: unknown, values: unknown[]): string => {
    if (!w || typeof w !== 'object') return 'TRUE';
    const parts: string[] = [];
    for (const [k, v] of Object.entries(w as Record<string, unknown>)) {
      if (k === 'AND') parts.push(`(${(v as unknown[]).map((x) => where(x, values)).join(' AND ')})`);
      else if (k === 'OR') parts.push(`(${(v as unknown[]).map((x) => where(x, values)).join(' OR ') || 'FALSE'})`);
      else if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
        for (const [op, x] of Object.entries(v as Record<string, unknown>)) {
          if (op === 'in') parts.push((x as unknown[]).length === 0 ? 'FALSE' : `${col(k)} = ANY($${values.push(x)})`);
          else parts.push(`${col(k)} ${{ lt: '<', gt: '>', lte: '<=', gte: '>=', equals: '=' }[op] ?? '?'} $${values.push(x)}`);
        }
      } else parts.push(`${col(k)} = $${values.push(v)}`);
    }
    return parts.length ? parts.join(' AND ') : 'TRUE';
  };
  return {
    calls: 0,
    async findMany(args: { where?: unknown; orderBy?: unknown; take?: number }) {
      this.calls++;
      const values: unknown[] = [];
      const order = (args.orderBy as Record<string, string>[]).map((o) => Object.entries(o).map(([f, d]) => `${col(f)} ${d === 'desc' ? 'DESC' : 'ASC'}`)[0]).join(', ');
      const r = await pool.query(
        `SELECT id, created_at AS "createdAt", workspace_id AS "workspaceId", client_name AS "clientName" FROM orders WHERE ${where(args.where, values)} ORDER BY ${order} LIMIT ${Number(args.take)}`,
        values,
      );
      return r.rows as { id: string; createdAt: Date; workspaceId: string; clientName: string }[];
    },
  };
}

/** Every order that should be listed once, in (createdAt desc, id desc) order, computed the slow way. */
async function expectedOrder(db: Db, pool: pg.Pool, direction: 'desc' | 'asc' = 'desc'): Promise<string[]> {
  const rows = await pool.query<{ id: string; t: Date }>(`SELECT id, created_at AS t FROM orders WHERE workspace_id = $1`, [wsUuid]);
  const migrated = await pool.query<{ uuid: string }>(`SELECT uuid FROM hybrid_migrate.id_map WHERE collection = 'orders'`);
  const inPg = new Set(migrated.rows.map((r) => r.uuid));
  const docs = await db.collection('orders').find({ workspaceId: ws }).toArray();
  const all = [
    ...rows.rows.map((r) => ({ id: r.id, t: r.t.getTime() })),
    ...docs.map((d) => ({ id: objectIdToUuid(d._id), t: (d.createdAt as Date).getTime() })).filter((d) => !inPg.has(d.id)),
  ];
  all.sort((a, b) => a.t - b.t || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (direction === 'desc') all.reverse();
  return all.map((x) => x.id);
}

async function readAll<M extends object, R extends object>(opts: CombinedReadOptions<M, R>, limit: number) {
  const ids: string[] = [];
  const pages: { size: number; mongodb: number; postgresql: number; dropped: number }[] = [];
  let after: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof readCombined<M, R>>> = await readCombined({ ...opts, limit, after });
    ids.push(...page.items.map((i) => String((i as { id: unknown }).id)));
    pages.push({ size: page.items.length, mongodb: page.stats.mongodb, postgresql: page.stats.postgresql, dropped: page.stats.droppedMigrated });
    after = page.nextCursor;
    expect(pages.length).toBeLessThan(100);
  } while (after);
  return { ids, pages };
}

beforeAll(async () => {
  // Half-finished Phase 2: 120 orders migrated, then 60 more written to MongoDB, and 50 application orders in PostgreSQL.
  ws = await insertSimpleOrders(t.db, 120);
  wsUuid = objectIdToUuid(ws);
  const first = await runMigrate(t.db, t.pg, { collections: ['workspaces', 'orders'] });
  expect(first.collections.map((c) => c.migrated)).toEqual([1, 120]);
  const later = Array.from({ length: 60 }, (_, j) => ({
    workspaceId: ws,
    clientName: `Later ${j}`,
    status: 'pending',
    // Every 10th shares its createdAt with a migrated order: the id breaks the tie.
    createdAt: new Date(BASE + j * 2000 + (j % 10 === 0 ? 0 : 500)),
  }));
  await t.db.collection('orders').insertMany(later);
  // Orders of another workspace must be filtered out on both sides.
  await t.db.collection('orders').insertOne({ workspaceId: new ObjectId(), clientName: 'other shop', createdAt: new Date(BASE) });
  await t.pg.query(
    `INSERT INTO orders (id, workspace_id, client_name, status, created_at)
     SELECT gen_random_uuid(), $1, 'app ' || g, 'pending', to_timestamp(($2::bigint + g * 2300 + CASE WHEN g % 7 = 0 THEN 0 ELSE 250 END) / 1000.0)
       FROM generate_series(0, 49) g`,
    [wsUuid, BASE],
  );
});

describe('readCombined during a half-finished migration', () => {
  it('lists every record exactly once, newest first, across pages, with MongoDB documents under their future UUID', async () => {
    const expected = await expectedOrder(t.db, t.pg);
    expect(expected).toHaveLength(120 + 60 + 50);
    const prisma = pgOrders(t.pg);
    const { ids, pages } = await readAll({ mongo: t.db.collection('orders'), prisma, registry: t.pg, where: { mongo: { workspaceId: ws }, prisma: { workspaceId: wsUuid } } }, 17);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expected);
    expect(pages).toHaveLength(Math.ceil(230 / 17));
    expect(pages.slice(0, -1).every((p) => p.size === 17)).toBe(true);
    expect(pages.reduce((n, p) => n + p.mongodb, 0)).toBe(60);
    expect(pages.reduce((n, p) => n + p.postgresql, 0)).toBe(170);
    expect(pages.some((p) => p.dropped > 0)).toBe(true);
    // Never more than one findMany per page: the PostgreSQL side reads at most limit + 1 rows.
    expect(prisma.calls).toBe(pages.length);
  });

  it('reads oldest first as well, and with a page size larger than the whole list', async () => {
    const expected = await expectedOrder(t.db, t.pg, 'asc');
    const opts = { mongo: t.db.collection('orders'), prisma: pgOrders(t.pg), registry: t.pg, where: { mongo: { workspaceId: ws }, prisma: { workspaceId: wsUuid } }, direction: 'asc' as const };
    expect((await readAll(opts, 23)).ids).toEqual(expected);
    const one = await readCombined({ ...opts, limit: 1000 });
    expect(one.items.map((i) => (i as { id: string }).id)).toEqual(expected);
    expect(one.nextCursor).toBeNull();
  });

  it('works with a mongoose Model and a real generated Prisma 7 client (registry read through $queryRawUnsafe)', async () => {
    const dir = join(REPO_ROOT, 'generated', `library-test-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const schema = readFileSync(join(REPO_ROOT, 'prisma', 'schema.prisma'), 'utf8').replace(/output\s*=\s*"[^"]*"/, 'output = "./client"');
    writeFileSync(join(dir, 'schema.prisma'), schema);
    // Offline: generate runs on WebAssembly once PRISMA_SCHEMA_ENGINE_BINARY names any existing file (environment.md).
    execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', join(dir, 'schema.prisma')], {
      cwd: REPO_ROOT,
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1', DATABASE_URL: t.databaseUrl },
      stdio: 'pipe',
    });
    const conn = mongoose.createConnection(mongoUriFor(t.mongoUri, t.mongoDbName));
    try {
      const { PrismaClient } = (await import(/* @vite-ignore */ join(dir, 'client', 'client.ts'))) as { PrismaClient: new (o: object) => any };
      const { PrismaPg } = await import('@prisma/adapter-pg');
      const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: t.databaseUrl }) });
      try {
        await conn.asPromise();
        const Order = conn.model('Order', new mongoose.Schema({ workspaceId: mongoose.Schema.Types.ObjectId, createdAt: Date }, { strict: false }), 'orders');
        // mongoose casts the hex string to an ObjectId with the application's schema.
        const { ids } = await readAll({ mongo: Order, prisma: prisma.order, registry: prisma, where: { mongo: { workspaceId: ws.toHexString() }, prisma: { workspaceId: wsUuid } } }, 40);
        expect(ids).toEqual(await expectedOrder(t.db, t.pg));
        const health = await healthCheck({ mongo: conn, pg: prisma });
        expect(health).toMatchObject({ status: 'ok', databases: { mongodb: 'connected', postgresql: 'connected' } });
      } finally {
        await prisma.$disconnect();
      }
    } finally {
      await conn.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never brings back from MongoDB a migrated record the application deleted or re-dated in PostgreSQL', async () => {
    const victims = await t.pg.query<{ uuid: string }>(`SELECT uuid FROM hybrid_migrate.id_map WHERE collection = 'orders' ORDER BY uuid LIMIT 2`);
    const [deleted, redated] = victims.rows.map((r) => r.uuid);
    await t.pg.query(`DELETE FROM order_items WHERE order_id = $1`, [deleted]);
    await t.pg.query(`DELETE FROM order_status_history WHERE order_id = $1`, [deleted]);
    await t.pg.query(`DELETE FROM orders WHERE id = $1`, [deleted]);
    await t.pg.query(`UPDATE orders SET created_at = created_at + interval '1 day' WHERE id = $1`, [redated]);
    const { ids } = await readAll({ mongo: t.db.collection('orders'), prisma: pgOrders(t.pg), registry: t.pg, where: { mongo: { workspaceId: ws }, prisma: { workspaceId: wsUuid } } }, 13);
    expect(ids).not.toContain(deleted);
    expect(ids.filter((id) => id === redated)).toHaveLength(1);
    expect(ids[0]).toBe(redated); // now the newest
    expect(ids).toEqual(await expectedOrder(t.db, t.pg));
    expect(ids).toHaveLength(229);
  });

  it('refuses a cursor it did not make', async () => {
    await expect(readCombined({ mongo: t.db.collection('orders'), prisma: pgOrders(t.pg), registry: t.pg, after: 'bogus' })).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('before any migration (no registry yet) lists both sides, nothing dropped', async () => {
    const fresh = await createTestDatabases();
    try {
      await fresh.db.collection('orders').insertMany([{ createdAt: new Date(BASE + 1) }, { createdAt: new Date(BASE + 3) }]);
      const wsId = '0190f5e2-7b1a-7000-8000-0000000000aa';
      await fresh.pg.query(`INSERT INTO workspaces (id, name, slug, currency) VALUES ($1, 'w', 'w', 'EUR')`, [wsId]);
      await fresh.pg.query(`INSERT INTO orders (id, workspace_id, status, created_at) VALUES ('0190f5e2-7b1a-7000-8000-0000000000bb', $1, 'pending', to_timestamp(($2::bigint + 2) / 1000.0))`, [wsId, BASE]);
      const page = await readCombined({ mongo: fresh.db.collection('orders'), prisma: pgOrders(fresh.pg), registry: fresh.pg, limit: 2 });
      expect(page.items.map((i) => (i as { createdAt: Date }).createdAt.getTime() - BASE)).toEqual([3, 2]);
      const rest = await readCombined({ mongo: fresh.db.collection('orders'), prisma: pgOrders(fresh.pg), registry: fresh.pg, limit: 2, after: page.nextCursor });
      expect(rest.items.map((i) => (i as { createdAt: Date }).createdAt.getTime() - BASE)).toEqual([1]);
      expect(rest.nextCursor).toBeNull();
    } finally {
      await fresh.drop();
    }
  });
});

describe('healthCheck', () => {
  let dead: MongoClient;
  beforeAll(() => {
    // Nothing listens on port 1: the client never connects.
    dead = new MongoClient('mongodb://127.0.0.1:1/shop?directConnection=true', { serverSelectionTimeoutMS: 30_000 });
  });
  afterAll(async () => {
    await dead.close().catch(() => undefined);
  });

  it('is what `import { healthCheck, readCombined } from "hybrid-migrate"` gives the application (built package entry)', async () => {
    const pkg = (await import('hybrid-migrate')) as Record<string, unknown>;
    expect(['readCombined', 'healthCheck', 'migratedIds', 'InvalidCursorError', 'objectIdToUuid', 'defineConfig'].filter((n) => typeof pkg[n] !== 'function')).toEqual([]);
    const check = pkg.healthCheck as typeof healthCheck;
    expect((await check({ mongo: t.mongo, pg: t.pg })).databases).toEqual({ mongodb: 'connected', postgresql: 'connected' });
  });

  it('reports both databases connected, with their round trips', async () => {
    const r = await healthCheck({ mongo: t.db, pg: t.pg });
    expect(r).toMatchObject({ status: 'ok', databases: { mongodb: 'connected', postgresql: 'connected' } });
    expect(r.latencyMs.mongodb).toBeGreaterThan(0);
    expect(r.latencyMs.postgresql).toBeGreaterThan(0);
    expect(Date.parse(r.timestamp)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('answers within its deadline with MongoDB disconnected when MongoDB cannot be reached', async () => {
    const started = Date.now();
    const r = await healthCheck({ mongo: dead, pg: t.pg, timeoutMs: 700 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r).toMatchObject({ status: 'degraded', databases: { mongodb: 'disconnected', postgresql: 'connected' }, latencyMs: { mongodb: null } });
  });

  it('reports PostgreSQL as error when it cannot be reached', async () => {
    const deadPg = new pg.Pool({ connectionString: 'postgresql://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
    deadPg.on('error', () => undefined);
    try {
      const r = await healthCheck({ mongo: t.db, pg: deadPg, timeoutMs: 2000 });
      expect(r).toMatchObject({ status: 'degraded', databases: { mongodb: 'connected', postgresql: 'error' } });
      const both = await healthCheck({ mongo: dead, pg: deadPg, timeoutMs: 700 });
      expect(both.status).toBe('down');
    } finally {
      await deadPg.end();
    }
  });
});
