/**
 * verify against real servers: clean after a clean migration; then 50 corruptions injected
 * in PostgreSQL are all found, with their row ids and fields, and nothing else is reported
 * while the application keeps inserting its own rows into the same tables.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ObjectId, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, useTestDatabases } from '../support/databases.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { mongoUriFor, runCli, type CliEnv } from '../support/cli.js';
import { recordAsMigrationWrote, runMigrate } from '../support/migration.js';
import { objectIdToUuid } from '../../src/core/ids.js';


/** Debian's chromium, headless: the real browser an operator opens the report with. */
function chromiumPath(): string | undefined {
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
}

async function chromium(binary: string, args: string[]): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'hm-chromium-'));
  try {
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`];
    const r = await promisify(execFile)(binary, [...flags, ...args], { timeout: 60_000, maxBuffer: 64 << 20 });
    return r.stdout;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

const dumpDom = (binary: string, file: string) => chromium(binary, ['--dump-dom', pathToFileURL(file).href]);
const screenshot = (binary: string, file: string, png: string) => chromium(binary, [`--screenshot=${png}`, '--window-size=1400,1800', '--hide-scrollbars', pathToFileURL(file).href]);

const t = useTestDatabases();
let env: CliEnv;
let outDir: string;
const HOSTILE = '<script>document.title="pwned"</script><img src=x onerror="alert(1)">|*md*|';

interface Seed {
  orders: ObjectId[];
  transactions: ObjectId[];
  clients: ObjectId[];
  products: ObjectId[];
}
let seed: Seed;

async function seedSource(db: Db): Promise<Seed> {
  const ws = new ObjectId();
  const user = new ObjectId();
  await db.collection('workspaces').insertOne({ _id: ws, name: 'Shop', slug: 'shop', currency: 'XOF', owner: user, createdAt: new Date('2021-01-01T00:00:00.000Z') });
  await db.collection('users').insertOne({ _id: user, workspaceId: ws, email: 'owner@example.com', name: 'Owner', role: 'admin', createdAt: new Date('2021-01-01T00:00:00.000Z') });
  const products = Array.from({ length: 10 }, () => new ObjectId());
  await db.collection('products').insertMany(
    products.map((_id, i) => ({ _id, workspaceId: ws, name: `Product ${i}`, sellingPrice: 1500.5 + i, productCost: `${700 + i},25`, stock: i, images: [`https://cdn.example/${i}.jpg`], createdBy: user, createdAt: new Date(Date.UTC(2021, 1, 1, 0, 0, i)) })),
  );
  const clients = Array.from({ length: 20 }, () => new ObjectId());
  await db.collection('clients').insertMany(
    clients.map((_id, i) => ({ _id, workspaceId: ws, name: `Client ${i}`, phone: `+2217700000${String(i).padStart(2, '0')}`, address: i % 2 ? `Rue ${i}` : { city: 'Dakar', street: `Avenue ${i}` }, tags: ['vip', `t${i}`], createdBy: user, createdAt: new Date(Date.UTC(2021, 2, 1, 0, 0, i)) })),
  );
  const orders = Array.from({ length: 200 }, () => new ObjectId());
  const base = Date.UTC(2022, 0, 1);
  await db.collection('orders').insertMany(
    orders.map((_id, i) => ({
      _id,
      workspaceId: ws,
      clientId: clients[i % clients.length],
      clientName: `Client ${i % 20}`,
      status: 'delivered',
      source: 'facebook',
      notes: i === 150 ? HOSTILE : `note ${i}`,
      delivery: { address: `Street ${i}`, city: 'Dakar', fee: `${1000 + i}.25`, deliveredAt: new Date(base + i * 3_600_000 + 123) },
      items: [0, 1, 2].slice(0, 2 + (i % 2)).map((k) => ({ productId: products[(i + k) % 10], name: `Article ${i}-${k}`, quantity: k + 1, unitPrice: 2500 + i * 10 + k })),
      statusHistory: [
        { status: 'pending', at: new Date(base + i * 1000 + 7), by: user },
        { status: 'delivered', at: new Date(base + i * 1000 + 86_400_000) },
      ],
      legacyCode: `LC-${i}`,
      meta: { z: 1, a: { n: 12.5, list: [1, 'two'] } },
      createdBy: user,
      createdAt: new Date(base + i * 1000 + 1),
    })),
  );
  const transactions = Array.from({ length: 40 }, () => new ObjectId());
  await db.collection('transactions').insertMany(
    transactions.map((_id, i) => ({ _id, workspaceId: ws, type: i % 2 ? 'income' : 'expense', amount: `${12345 + i}.5`, category: 'ads', date: new Date(base + i * 60_000 + 999), orderId: orders[i], createdBy: user, createdAt: new Date(base + i) })),
  );
  return { orders, transactions, clients, products };
}

beforeAll(async () => {
  seed = await seedSource(t.db);
  const r = await runMigrate(t.db, t.pg, { batchSize: 64 });
  for (const c of r.collections) expect(c, c.name).toMatchObject({ rejected: 0 });
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  outDir = await mkdtemp(join(tmpdir(), 'hm-verify-'));
});

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

interface JsonCollection {
  name: string;
  source: number;
  target: number;
  missing: number;
  extra: number;
  mismatched: number;
  migrated: number;
  rejected: number;
  notMigrated: number;
  checked: number;
  mismatches: { uuid: string; field: string; source: string | null; target: string | null }[];
  missingRows: { uuid: string; reason: string }[];
  extraRows: { uuid: string; reason: string }[];
  changedByApplication: number;
  deletedByApplication: number;
  applicationChanges: { uuid: string; kind: string; table: string; row: string }[];
}
interface JsonResult {
  ok: boolean;
  report: { markdown: string; html: string } | null;
  collections: JsonCollection[];
}

const ou = (i: number) => objectIdToUuid(seed.orders[i] as ObjectId);
const tu = (i: number) => objectIdToUuid(seed.transactions[i] as ObjectId);

/** The corruptions: SQL to run and what verify must report for it (uuid → fields, or a missing/extra row). */
type Expect = { uuid: string; fields: string[] };

function itemFields(p: number): string[] {
  return ['id', 'productId', 'name', 'quantity', 'unitPrice'].map((f) => `items[${p}].${f}`);
}

async function corrupt(): Promise<Expect[]> {
  const q = (sql: string, params: unknown[] = []) => t.pg.query(sql, params);
  const out: Expect[] = [];
  // Orders 40+ have no transaction pointing at them: deleting one changes nothing else.
  for (const i of [40, 41, 42, 43]) {
    await q(`UPDATE orders SET delivery_fee = delivery_fee + 0.01 WHERE id = $1`, [ou(i)]);
    out.push({ uuid: ou(i), fields: ['deliveryFee'] });
  }
  for (const i of [46, 47, 48, 49]) {
    await q(`UPDATE orders SET created_at = created_at + interval '1 millisecond' WHERE id = $1`, [ou(i)]);
    out.push({ uuid: ou(i), fields: ['createdAt'] });
  }
  for (const i of [52, 53, 54]) {
    await q(`UPDATE orders SET notes = NULL WHERE id = $1`, [ou(i)]);
    out.push({ uuid: ou(i), fields: ['notes'] });
  }
  for (const i of [56, 57, 58]) {
    await q(`UPDATE orders SET client_name = client_name || ' ' WHERE id = $1`, [ou(i)]);
    out.push({ uuid: ou(i), fields: ['clientName'] });
  }
  await q(`UPDATE orders SET client_name = $2 WHERE id = $1`, [ou(150), HOSTILE.replace('pwned', 'changed')]);
  out.push({ uuid: ou(150), fields: ['clientName'] });
  for (const i of [60, 61, 62]) {
    await q(`UPDATE orders SET legacy_extra = jsonb_set(legacy_extra, '{meta,a,n}', '12.51') WHERE id = $1`, [ou(i)]);
    out.push({ uuid: ou(i), fields: ['legacyExtra'] });
  }
  await q(`UPDATE orders SET legacy_extra = legacy_extra - 'legacyCode' WHERE id = $1`, [ou(63)]);
  out.push({ uuid: ou(63), fields: ['legacyExtra'] });
  for (const i of [64]) {
    await q(`UPDATE orders SET status = 'returned' WHERE id = $1`, [ou(i)]);
    out.push({ uuid: ou(i), fields: ['status'] });
  }
  await q(`UPDATE orders SET delivered_at = NULL, source = 'tiktok' WHERE id = $1`, [ou(66)]);
  out.push({ uuid: ou(66), fields: ['deliveredAt', 'source'] });
  for (const i of [67, 68, 69, 70]) {
    await q(`DELETE FROM orders WHERE id = $1`, [ou(i)]);
    // A registered row that is gone: only the application deletes one (issue 16), never a difference.
    out.push({ uuid: ou(i), fields: ['(deleted-by-application)'] });
  }
  // Duplicated rows: a copy of a migrated order under an id of the migration's space that id_map does not know,
  // and a copy registered in id_map under a source key whose document does not exist.
  const copy = async (from: string, to: string) =>
    q(`INSERT INTO orders SELECT (jsonb_populate_record(NULL::orders, to_jsonb(o) || jsonb_build_object('id', $2::text))).* FROM orders o WHERE id = $1`, [from, to]);
  for (const i of [71, 72]) {
    const dup = objectIdToUuid(new ObjectId());
    await copy(ou(i), dup);
    out.push({ uuid: dup, fields: ['(extra: unregistered-copy)'] });
  }
  for (const i of [73, 74]) {
    const ghost = new ObjectId();
    const dup = objectIdToUuid(ghost);
    await copy(ou(i), dup);
    await q(`INSERT INTO hybrid_migrate.id_map (collection, source_key, uuid, target_table, run_id, row_hash) SELECT 'orders', $1, $2, 'orders', run_id, 'x' FROM hybrid_migrate.id_map WHERE uuid = $3`, [`oid:${ghost.toHexString()}`, dup, ou(i)]);
    out.push({ uuid: dup, fields: ['(extra: source-deleted)'] });
  }
  for (const i of [75, 76, 77]) {
    await q(`UPDATE order_items SET unit_price = unit_price * 10 WHERE order_id = $1 AND position = 1`, [ou(i)]);
    out.push({ uuid: ou(i), fields: ['items[1].unitPrice'] });
  }
  await q(`UPDATE order_items SET quantity = NULL WHERE order_id = $1 AND position = 0`, [ou(78)]);
  out.push({ uuid: ou(78), fields: ['items[0].quantity'] });
  for (const i of [79, 80, 81]) {
    await q(`DELETE FROM order_items WHERE order_id = $1 AND position = 1`, [ou(i)]);
    out.push({ uuid: ou(i), fields: ['items.length', 'items[1]'] });
  }
  for (const i of [82, 84]) {
    // Swap positions 0 and 1 (three steps: the (order_id, position) unique constraint is checked row by row).
    await q(`UPDATE order_items SET position = -1 WHERE order_id = $1 AND position = 0`, [ou(i)]);
    await q(`UPDATE order_items SET position = 0 WHERE order_id = $1 AND position = 1`, [ou(i)]);
    await q(`UPDATE order_items SET position = 1 WHERE order_id = $1 AND position = -1`, [ou(i)]);
    out.push({ uuid: ou(i), fields: [...itemFields(0), ...itemFields(1)] });
  }
  // A line with an id of its own (v4) under a migrated order can only be the application's (the
  // migration's child ids derive from parent and position): found and named as the application's
  // change, as the incremental sync and rollback treat it, not as a migration defect.
  await q(`INSERT INTO order_items (id, order_id, position, name, quantity) VALUES (gen_random_uuid(), $1, 7, 'added by hand', 1)`, [ou(86)]);
  out.push({ uuid: ou(86), fields: ['(modified-by-application)'] });
  for (const i of [87, 88]) {
    await q(`UPDATE order_status_history SET at = at - interval '1 millisecond' WHERE order_id = $1 AND position = 0`, [ou(i)]);
    out.push({ uuid: ou(i), fields: ['statusHistory[0].at'] });
  }
  await q(`UPDATE order_status_history SET by_id = NULL WHERE order_id = $1 AND position = 0`, [ou(89)]);
  out.push({ uuid: ou(89), fields: ['statusHistory[0].byId'] });
  for (const i of [1, 2]) {
    await q(`UPDATE transactions SET amount = amount + 1 WHERE id = $1`, [tu(i)]);
    out.push({ uuid: tu(i), fields: ['amount'] });
  }
  for (const i of [4, 5]) {
    await q(`UPDATE transactions SET date = date + interval '1 millisecond' WHERE id = $1`, [tu(i)]);
    out.push({ uuid: tu(i), fields: ['date'] });
  }
  await q(`UPDATE clients SET tags = ARRAY['vip'] WHERE id = $1`, [objectIdToUuid(seed.clients[3] as ObjectId)]);
  out.push({ uuid: objectIdToUuid(seed.clients[3] as ObjectId), fields: ['tags'] });
  await q(`UPDATE products SET selling_price = 1500.6 WHERE id = $1`, [objectIdToUuid(seed.products[0] as ObjectId)]);
  out.push({ uuid: objectIdToUuid(seed.products[0] as ObjectId), fields: ['sellingPrice'] });
  await q(`UPDATE products SET images = ARRAY['https://cdn.example/1.jpg', 'x'] WHERE id = $1`, [objectIdToUuid(seed.products[1] as ObjectId)]);
  out.push({ uuid: objectIdToUuid(seed.products[1] as ObjectId), fields: ['images'] });
  // Deleted in MongoDB after the migration: the row is extra.
  await t.db.collection('transactions').deleteOne({ _id: seed.transactions[39] });
  out.push({ uuid: tu(39), fields: ['(extra: source-deleted)'] });
  // The edits above stand for migration defects: recorded as what the migration wrote, or
  // verify would rightly count them as the application's changes (changedByApplication).
  await recordAsMigrationWrote(t.pg, ['orders', 'transactions', 'clients', 'products']);
  return out;
}

/** The application keeps writing its own rows (v4 ids) into the same tables. */
function startApplicationWrites(): { stop(): Promise<number> } {
  let running = true;
  let inserted = 0;
  const loop = (async () => {
    const ws = objectIdToUuid((await t.db.collection('workspaces').findOne({}))?._id as ObjectId);
    while (running) {
      await t.pg.query(
        `WITH o AS (INSERT INTO orders (id, workspace_id, client_name, status, delivery_fee, created_at) VALUES (gen_random_uuid(), $1, 'app order', 'pending', 10.5, now()) RETURNING id)
         INSERT INTO order_items (id, order_id, position, name, quantity, unit_price) SELECT gen_random_uuid(), id, g, 'app item', 1, 99.99 FROM o, generate_series(0, 2) g`,
        [ws],
      );
      await t.pg.query(`INSERT INTO clients (id, workspace_id, name, phone) VALUES (gen_random_uuid(), $1, 'app client', gen_random_uuid()::text)`, [ws]);
      await t.pg.query(`INSERT INTO transactions (id, workspace_id, type, amount, date) VALUES (gen_random_uuid(), $1, 'income', 1.23, now())`, [ws]);
      inserted += 3;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return inserted;
    },
  };
}

function reported(result: JsonResult): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (uuid: string, field: string) => found.set(uuid, [...(found.get(uuid) ?? []), field]);
  for (const c of result.collections) {
    for (const m of c.mismatches) add(m.uuid, m.field);
    for (const m of c.missingRows) add(m.uuid, `(missing: ${m.reason})`);
    for (const e of c.extraRows) add(e.uuid, `(extra: ${e.reason})`);
    for (const a of c.applicationChanges) add(a.uuid, `(${a.kind})`);
  }
  return found;
}

describe('verify', () => {
  it('is clean after a clean migration: exit 0, counts add up, a report is written', async () => {
    const r = await runCli(['verify', '--json', '--out', outDir, '--batch-size', '50', '--concurrency', '3'], env);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as JsonResult;
    expect(json.ok).toBe(true);
    const orders = json.collections.find((c) => c.name === 'orders');
    expect(orders).toMatchObject({ source: 200, target: 200, migrated: 200, rejected: 0, notMigrated: 0, missing: 0, extra: 0, mismatched: 0, checked: 200 });
    for (const c of json.collections) {
      expect(c.source, c.name).toBe(c.migrated + c.rejected + c.notMigrated);
      expect(c, c.name).toMatchObject({ missing: 0, extra: 0, mismatched: 0 });
    }
    expect(json.collections.map((c) => c.name).sort()).toEqual(['clients', 'decisions', 'goals', 'orders', 'products', 'reports', 'transactions', 'users', 'workspaces']);
    expect(await readFile(json.report?.markdown as string, 'utf8')).toContain('# hybrid-migrate verify: OK');
    const v = await t.pg.query(`SELECT collection, status, mismatched::int FROM hybrid_migrate.verifications WHERE collection = 'orders'`);
    expect(v.rows).toEqual([{ collection: 'orders', status: 'ok', mismatched: 0 }]);
    // The registry's statistics were refreshed before it was paged in UUID order (stale ones
    // made PostgreSQL sort the whole registry for every page: verify stalled on 1M orders).
    // (A backend's statistics reach the shared counters when it exits: shortly after the CLI did.)
    let analyzed = 0;
    for (let i = 0; i < 50 && analyzed === 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      const q = await t.pg.query(`SELECT analyze_count::int AS n FROM pg_stat_user_tables WHERE schemaname = 'hybrid_migrate' AND relname = 'id_map'`);
      analyzed = q.rows[0]?.n ?? 0;
    }
    expect(analyzed).toBeGreaterThan(0);
  });

  let corrupted: JsonResult;
  let expected: Expect[];

  it('finds all 50 injected corruptions with their row ids and fields, and nothing else, while the application writes', async () => {
    expected = await corrupt();
    expect(expected).toHaveLength(50);
    const app = startApplicationWrites();
    let r;
    try {
      r = await runCli(['verify', '--json', '--out', outDir, '--batch-size', '37', '--max-samples', '1000'], env);
    } finally {
      const n = await app.stop();
      expect(n).toBeGreaterThan(0);
    }
    expect(r.code).toBe(1);
    corrupted = JSON.parse(r.stdout) as JsonResult;
    expect(corrupted.ok).toBe(false);
    const found = reported(corrupted);
    const want = new Map(expected.map((e) => [e.uuid, [...e.fields].sort()]));
    expect(new Set(found.keys())).toEqual(new Set(want.keys()));
    for (const [uuid, fields] of want) expect([...(found.get(uuid) ?? [])].sort(), uuid).toEqual(fields);
    const orders = corrupted.collections.find((c) => c.name === 'orders') as JsonCollection;
    expect(orders).toMatchObject({ source: 200, migrated: 200, missing: 0, deletedByApplication: 4, changedByApplication: 1, extra: 4 });
    expect(orders.applicationChanges.find((a) => a.uuid === ou(86))).toMatchObject({ kind: 'modified-by-application', table: 'order_items' });
    expect(orders.target).toBe(200 - 4 + 4);
    const tx = corrupted.collections.find((c) => c.name === 'transactions') as JsonCollection;
    expect(tx).toMatchObject({ source: 39, extra: 1, mismatched: 4 });
    // Exact values, type-aware: the decimal shown as stored, the instant in ISO.
    const fee = orders.mismatches.find((m) => m.uuid === ou(40) && m.field === 'deliveryFee');
    expect(fee).toMatchObject({ source: '1040.25', target: '1040.2600' });
    const moved = orders.mismatches.find((m) => m.uuid === ou(46) && m.field === 'createdAt');
    expect(moved?.target).toBe(new Date(Date.parse(moved?.source as string) + 1).toISOString());
  });

  it('--sample compares a sample but keeps the counts, missing and extra rows exact', async () => {
    const r = await runCli(['verify', 'orders', '--sample', '20', '--json', '--no-report'], env);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as JsonResult;
    expect(json.report).toBeNull();
    expect(json.collections[0]).toMatchObject({ name: 'orders', source: 200, migrated: 200, notMigrated: 0, missing: 0, deletedByApplication: 4, extra: 4 });
    // 20 registered documents sampled; those whose row the application deleted are counted apart, not compared.
    const checked = json.collections[0]?.checked ?? 0;
    expect(checked).toBeGreaterThanOrEqual(16);
    expect(checked).toBeLessThanOrEqual(20);
    expect(json.collections[0]?.mismatched).toBeLessThanOrEqual(checked);
  });

  it('the HTML report renders in a real browser with the counts and the mismatches, hostile values as text', async (ctx) => {
    const chromium = chromiumPath();
    if (!chromium) return ctx.skip(true, 'chromium not found (/usr/bin/chromium; CI installs it in .ci/run)');
    const htmlPath = corrupted.report?.html as string;
    const dom = await dumpDom(chromium, htmlPath);
    expect(dom).toContain('id="summary"');
    const row = /<tr data-collection="orders">(.*?)<\/tr>/s.exec(dom)?.[1] ?? '';
    const cells = [...row.matchAll(/<td[^>]*>(.*?)<\/td>/gs)].map((m) => m[1]);
    expect(cells.slice(0, 10)).toEqual(['orders', '200', '200', '200', '0', '0', '0', '4', String(corrupted.collections.find((c) => c.name === 'orders')?.mismatched), '196']);
    for (const e of expected.filter((x) => !x.fields[0]?.startsWith('('))) expect(dom, e.uuid).toContain(`data-uuid="${e.uuid}"`);
    // The hostile value is shown as text: no element was created from it, the title is untouched.
    expect(dom).not.toContain('<script>document.title');
    expect(dom).not.toMatch(/<img src="x"/);
    expect(dom).toContain('&lt;script&gt;document.title="changed"&lt;/script&gt;');
    expect(/<title>(.*?)<\/title>/.exec(dom)?.[1]).toBe('hybrid-migrate verify — differences');
    const png = join(outDir, 'verify-report.png');
    await screenshot(chromium, htmlPath, png);
    expect((await readFile(png)).subarray(1, 4).toString('latin1')).toBe('PNG');
    // For a person to look at: HM_VERIFY_KEEP=<dir> keeps the page and its screenshot.
    if (process.env.HM_VERIFY_KEEP) {
      await cp(htmlPath, join(process.env.HM_VERIFY_KEEP, 'verify-report.html'));
      await cp(png, join(process.env.HM_VERIFY_KEEP, 'verify-report.png'));
    }
  });

  it('--dry-run reports what a migration would write, reject (per field, with reasons) and coerce, writing nothing', async () => {
    const fresh = await createTestDatabases();
    try {
      await insertSimpleOrders(fresh.db, 30, { badEvery: 7 });
      const dryEnv = { MONGO_URI: mongoUriFor(fresh.mongoUri, fresh.mongoDbName), DATABASE_URL: fresh.databaseUrl };
      const r = await runCli(['verify', 'workspaces', 'orders', '--dry-run', '--json', '--out', outDir], dryEnv);
      expect(r.code).toBe(1);
      const json = JSON.parse(r.stdout) as JsonResult & { dryRun: boolean };
      expect(json).toMatchObject({ ok: false, dryRun: true });
      expect(json.collections.find((c) => c.name === 'orders')).toMatchObject({ source: 30, target: 25, missing: 5, extra: 0, mismatched: 0, rejected: 5 });
      const state = await fresh.pg.query(`SELECT to_regclass('hybrid_migrate.id_map') AS t, (SELECT count(*)::int FROM orders) AS n`);
      expect(state.rows[0]).toEqual({ t: null, n: 0 });
      const markdown = await readFile(json.report?.markdown as string, 'utf8');
      expect(markdown).toContain('### Would reject, per field');
      expect(markdown).toMatch(/\| status \| 5 \|/);
      const chromium = chromiumPath();
      if (chromium) {
        const dom = await dumpDom(chromium, json.report?.html as string);
        expect(/<table id="rejects-orders">.*?<code>status<\/code><\/td><td class="num">5<\/td>/s.test(dom)).toBe(true);
        expect(dom).toContain('5 WOULD BE REJECTED');
      }
    } finally {
      await fresh.drop();
    }
  });
});
