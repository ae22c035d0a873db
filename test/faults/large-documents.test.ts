/**
 * Documents at MongoDB's limits under a memory bound: orders of nearly 16 MB (a huge note, or
 * tens of thousands of items, each becoming a child row) and a document nested 100 levels deep
 * (MongoDB's maximum). All of them are migrated exactly, verify is clean, and the migrate
 * process's peak resident memory, sampled from /proc while it runs, stays under a fixed bound
 * well below the volume of data it moved: it never holds the collection, only a bounded
 * number of batches of at most 8 MB of BSON each (one document when a document is larger),
 * and asks the server for replies of about that size (FerretDB would otherwise send every
 * huge document in one reply: measured 768 MB peak RSS before, 382 MB after).
 */
import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli, type CliEnv } from '../support/cli.js';
import { nested } from '../support/simple-orders.js';

const HUGE_NOTES = 12;
const HUGE_ARRAYS = 2;
const ITEMS_PER_ARRAY = 60_000;
/** The bound on peak RSS. A Node process that has loaded the CLI is ~100 MB; one 16 MB document in flight costs a few times its size (BSON, decoded strings, COPY text). */
const PEAK_RSS_BOUND_MB = 450;

let db: TestDatabases & { drop(): Promise<void> };
let env: CliEnv;
let sourceMb = 0;

/** About `mb` MB of text that differs per document (no two notes alike, nothing a compressor could fold). */
function note(seed: number, mb: number): string {
  const words = ['livraison', 'client', 'appel', 'Dakar', 'Abidjan', 'retour', 'payé', 'colis', 'urgent', 'adresse'];
  const parts: string[] = [];
  let size = 0;
  let x = seed;
  while (size < mb * 1024 * 1024) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const w = `${words[x % words.length]}-${x.toString(36)} `;
    parts.push(w);
    size += w.length;
  }
  return parts.join('');
}

beforeAll(async () => {
  db = await createTestDatabases();
  env = { MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl };
  const ws = new ObjectId();
  await db.db.collection('workspaces').insertOne({ _id: ws, name: 'Big', slug: 'big', currency: 'XOF', createdAt: new Date('2020-01-01T00:00:00Z') });
  const orders = db.db.collection('orders');
  const at = new Date('2021-06-01T00:00:00Z');
  for (let i = 0; i < HUGE_NOTES; i++) {
    await orders.insertOne({ workspaceId: ws, clientName: `Huge note ${i}`, status: 'pending', notes: note(i + 1, 15.5), items: [{ name: 'A', quantity: 1, unitPrice: 100 }], createdAt: at });
  }
  for (let i = 0; i < HUGE_ARRAYS; i++) {
    const items = Array.from({ length: ITEMS_PER_ARRAY }, (_, j) => ({ name: `Article ${i}-${j} ${'x'.repeat(150)}`, quantity: 1 + (j % 5), unitPrice: 100 + j }));
    await orders.insertOne({ workspaceId: ws, clientName: `Huge array ${i}`, status: 'pending', items, createdAt: at });
  }
  // MongoDB's maximum: 100 levels, the document itself being the first.
  await orders.insertOne({ workspaceId: ws, clientName: 'Deep', status: 'pending', items: [], deep: nested(99), createdAt: at });
  const stats = await db.db.command({ collStats: 'orders' });
  sourceMb = Number(stats.size) / 1024 / 1024;
  expect((await runCli(['migrate', 'workspaces'], env)).code).toBe(0);
}, 600_000);

afterAll(async () => {
  await db?.drop();
});

describe('16 MB documents and 100-level nesting', () => {
  it('are migrated exactly, under a fixed memory bound below the data volume', async () => {
    const r = await runCli(['migrate', 'orders', '--json'], env, { sampleRss: true });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { collections: { name: string; read: number; migrated: number; rejected: number }[] };
    expect(out.collections.find((c) => c.name === 'orders')).toMatchObject({ read: HUGE_NOTES + HUGE_ARRAYS + 1, migrated: HUGE_NOTES + HUGE_ARRAYS + 1, rejected: 0 });
    process.stdout.write(`\n[faults] 16 MB documents: ${sourceMb.toFixed(0)} MB of orders (${HUGE_NOTES} notes of 15.5 MB, ${HUGE_ARRAYS} arrays of ${ITEMS_PER_ARRAY} items, one 100-level document) migrated in ${(r.ms / 1000).toFixed(1)} s, peak RSS ${r.peakRssMb?.toFixed(0)} MB (bound ${PEAK_RSS_BOUND_MB} MB)\n`);
    expect(sourceMb).toBeGreaterThan(PEAK_RSS_BOUND_MB * 0.5);
    expect(r.peakRssMb).toBeGreaterThan(0);
    expect(r.peakRssMb).toBeLessThan(PEAK_RSS_BOUND_MB);

    const items = await db.pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM order_items`);
    expect(items.rows[0]?.n).toBe(HUGE_NOTES + HUGE_ARRAYS * ITEMS_PER_ARRAY);
    const notes = await db.pg.query<{ len: number }>(`SELECT length(notes)::int AS len FROM orders WHERE client_name = 'Huge note 0'`);
    expect(notes.rows[0]?.len).toBe(note(1, 15.5).length);
    const deep = await db.pg.query<{ depth: string }>(`SELECT jsonb_path_query_first(legacy_extra, 'lax $.**.leaf') #>> '{}' AS depth FROM orders WHERE client_name = 'Deep'`);
    expect(deep.rows[0]).toEqual({ depth: 'bottom' });
    // verify compares every document with its rows: the notes, every item, the deep field.
    const v = await runCli(['verify', 'orders', '--json', '--no-report'], env);
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout).collections[0]).toMatchObject({ source: HUGE_NOTES + HUGE_ARRAYS + 1, missing: 0, extra: 0, mismatched: 0 });
  });
});
