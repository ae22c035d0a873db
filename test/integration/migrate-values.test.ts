/**
 * Every legacy variation FerretDB can store either arrives in PostgreSQL with the same
 * meaning (asserted on exact values: decimals, instants, text) or is set aside in the
 * rejects table with the field path and the reason. Variations FerretDB cannot store run
 * against a real MongoDB (MONGO_URI) and are covered on BSON values in test/unit.
 */
import { DBRef, Decimal128, Double, Int32, Long, ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases, skipUnlessRealMongo } from '../support/databases.js';
import { runMigrate } from '../support/migration.js';
import { objectIdToUuid } from '../../src/core/ids.js';
import type { MigrateResult } from '../../src/use-cases/migrate/migrate.js';

const t = useTestDatabases();

const ws = new ObjectId('5f1d7a3b2c4e5f6a7b8c9d01');
const owner = new ObjectId('5f1d7a3b2c4e5f6a7b8c9d02');
const dupUser = new ObjectId('5f1d7a3b2c4e5f6a7b8c9d03');
const product = new ObjectId('5f1d7a3b2c4e5f6a7b8c9d04');
const clientA = new ObjectId('5f1d7a3b2c4e5f6a7b8c9d05');
const clientDupPhone = new ObjectId('5f1d7a3b2c4e5f6a7b8c9d06');
const clientStringAddress = new ObjectId('5f1d7a3b2c4e5f6a7b8c9d07');
const gone = new ObjectId('5f1d7a3b2c4e5f6a7b8c9dff');
const oid = (n: number) => new ObjectId(`6000000000000000000000${n.toString(16).padStart(2, '0')}`);
const u = (id: ObjectId) => objectIdToUuid(id);
const longNotes = `Livraison à Médina — ${'très long texte '.repeat(20_000)}fin`;

let result: MigrateResult;

beforeAll(async () => {
  const db = t.db;
  await db.collection('workspaces').insertOne({
    _id: ws, name: 'Boutique Dakar', slug: 'dakar', currency: 'XOF', owner,
    settings: { theme: 'sombre', big: new Long('9007199254740993'), nested: { ratio: 0.25, list: [1, 'deux'] } },
    createdAt: new Date('2019-01-07T08:00:00.123Z'), legacyCode: 'WS-001',
  });
  await db.collection('users').insertMany([
    { _id: owner, workspaceId: ws, email: 'awa@boutique.sn', name: 'Awa Ndiaye', role: 'admin', isActive: true, createdAt: new Date('2019-01-07T08:00:00Z'), updatedAt: new Date('2020-01-01T00:00:00Z') },
    { _id: dupUser, workspaceId: ws, email: 'awa@boutique.sn', name: 'Doublon', role: 'closer', createdAt: new Date('2019-02-01T00:00:00Z') },
  ]);
  await db.collection('products').insertOne({
    _id: product, workspaceId: ws, name: 'Crème karité', sku: ' KAR-01 ', sellingPrice: '12 500', productCost: new Int32(7000),
    deliveryCost: new Double(1500.5), stock: ' 3 ', isActive: 'true', images: [], createdBy: owner.toHexString(),
    createdAt: new Date('1969-07-20T20:17:40.001Z'),
  });
  await db.collection('clients').insertMany([
    { _id: clientA, workspaceId: ws, name: '  Moussa 😀 Diop  ', phone: '+221771234567', address: { city: 'Dakar', district: 'Médina', street: 'Rue 10', notes: null, zip: '11000' }, tags: 'vip', totalOrders: '3', createdBy: owner, createdAt: new Date('2020-05-01T10:00:00Z'), fbLeadId: 'fb-1' },
    { _id: clientDupPhone, workspaceId: ws, name: 'Même téléphone', phone: '+221771234567', tags: [], createdAt: new Date('2020-05-02T10:00:00Z') },
    { _id: clientStringAddress, workspaceId: ws, name: 'مريم', phone: null, address: 'Quartier Maârif, Casablanca', createdAt: 1588000000000 },
  ]);
  const history = Array.from({ length: 300 }, (_, i) => ({ status: i % 2 ? 'confirmed' : 'pending', at: new Date(Date.UTC(2021, 0, 1) + i * 1000), by: owner }));
  await db.collection('orders').insertMany([
    // old shape: one product in product/productId/quantity/price
    { _id: oid(1), workspaceId: ws, clientId: clientA, clientName: 'Moussa', product: 'Crème karité', productId: product, quantity: '2', price: '12,5', status: 'pending', source: 'facebook', createdAt: '2021-03-04T10:00:00.000Z', updatedAt: new Date('2021-03-05T00:00:00Z'), notes: longNotes },
    // new shape with items and a long status history
    { _id: oid(2), workspaceId: ws, clientId: clientA, items: [{ productId: product, name: 'Crème', quantity: new Int32(1), unitPrice: 12500 }, { productId: gone, name: 'Disparu', quantity: 1, unitPrice: '3 000' }], status: 'Delivered', statusHistory: history, delivery: { address: 'Rue 10', city: 'Dakar', fee: new Long(1000), deliveredAt: 1600000000123 }, createdAt: new Date('2021-04-01T00:00:00Z') },
    // both shapes: items win, the old fields are kept in legacy_extra
    { _id: oid(3), workspaceId: ws, clientId: gone.toHexString(), product: 'Ancien', quantity: 1, price: 100, items: [{ productId: product, quantity: 3, unitPrice: 99.5 }], status: 'shipped', createdBy: dupUser, createdAt: new Date('2021-05-01T00:00:00Z') },
    // not a number
    { _id: oid(4), workspaceId: ws, items: [{ productId: product, quantity: 1, unitPrice: 'N/A' }], status: 'pending', createdAt: new Date('2021-05-02T00:00:00Z') },
    // more decimals than the column's scale: rejected, never rounded
    { _id: oid(5), workspaceId: ws, delivery: { fee: 0.30000000000000004 }, status: 'pending', createdAt: new Date('2021-05-03T00:00:00Z') },
    // value outside the enum
    { _id: oid(6), workspaceId: ws, status: 'lost-in-transit', createdAt: new Date('2021-05-04T00:00:00Z') },
    // missing createdAt: the ObjectId's own time; missing updatedAt stays NULL
    { _id: oid(7), workspaceId: ws, status: 'cancelled' },
    // workspace that does not exist: a required reference, so rejected
    { _id: oid(8), workspaceId: gone, status: 'pending', createdAt: new Date('2021-05-05T00:00:00Z') },
    // a date without a time zone is ambiguous
    { _id: oid(9), workspaceId: ws, status: 'pending', createdAt: '2021-03-04T10:00:00' },
  ]);
  await db.collection('transactions').insertOne({ _id: oid(20), workspaceId: ws, type: 'income', amount: new Long('123456789012345'), date: new Date('1965-03-01T12:00:00.999Z'), orderId: oid(1), createdBy: owner, createdAt: new Date('2021-03-04T10:00:00Z') });
  result = await runMigrate(t.db, t.pg, { batchSize: 3 });
});

async function one<T>(sql: string, params: unknown[] = []): Promise<T> {
  const r = await t.pg.query(sql, params);
  expect(r.rows).toHaveLength(1);
  return r.rows[0] as T;
}

async function rejectOf(id: ObjectId) {
  return one<{ field_path: string; reason: string; document: string; run_id: string }>(
    `SELECT field_path, reason, document, run_id FROM hybrid_migrate.rejects WHERE source_key = $1`, [`oid:${id.toHexString()}`]);
}

describe('migrate on the legacy variations FerretDB can store', () => {
  it('summarises what it read, wrote and rejected per collection', () => {
    const byName = Object.fromEntries(result.collections.map((c) => [c.name, c]));
    expect(byName.orders).toMatchObject({ read: 9, migrated: 4, rejected: 5 });
    expect(byName.users).toMatchObject({ read: 2, migrated: 1, rejected: 1 });
    expect(byName.clients).toMatchObject({ read: 3, migrated: 2, rejected: 1 });
    expect(byName.transactions).toMatchObject({ read: 1, migrated: 1, rejected: 0 });
    expect(byName.orders?.orphans).toEqual({ 'orders.clientId': 1, 'orders.createdBy': 1, 'orders.items[].productId': 1, 'orders.workspaceId': 1 });
  });

  it('keeps decimals exact, parses numbers stored as text, and keeps Int64 exact in JSON', async () => {
    const p = await one<Record<string, string>>(`SELECT selling_price::text AS sp, product_cost::text AS pc, delivery_cost::text AS dc, stock::text AS stock, sku, is_active::text AS active FROM products`);
    expect(p).toEqual({ sp: '12500.0000', pc: '7000.0000', dc: '1500.5000', stock: '3', sku: ' KAR-01 ', active: 'true' });
    const w = await one<{ big: string; ratio: string; list: string }>(`SELECT settings->>'big' AS big, settings->'nested'->>'ratio' AS ratio, (settings->'nested'->'list')::text AS list FROM workspaces`);
    expect(w).toEqual({ big: '9007199254740993', ratio: '0.25', list: '[1, "deux"]' });
    const tx = await one<{ amount: string }>(`SELECT amount::text AS amount FROM transactions`);
    expect(tx.amount).toBe('123456789012345.0000');
  });

  it('keeps instants to the millisecond, before 1970 too, from Dates, ISO strings and epoch numbers', async () => {
    const p = await one<{ c: string }>(`SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS c FROM products`);
    expect(p.c).toBe('1969-07-20T20:17:40.001');
    const tx = await one<{ d: string }>(`SELECT to_char(date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS d FROM transactions`);
    expect(tx.d).toBe('1965-03-01T12:00:00.999');
    const o1 = await one<{ c: string; u: string }>(`SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS c, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS u FROM orders WHERE id = $1`, [u(oid(1))]);
    expect(o1).toEqual({ c: '2021-03-04T10:00:00.000', u: '2021-03-05' });
    const o2 = await one<{ d: string }>(`SELECT (extract(epoch FROM delivered_at) * 1000)::bigint::text AS d FROM orders WHERE id = $1`, [u(oid(2))]);
    expect(o2.d).toBe('1600000000123');
    const c = await one<{ c: string }>(`SELECT (extract(epoch FROM created_at) * 1000)::bigint::text AS c FROM clients WHERE id = $1`, [u(clientStringAddress)]);
    expect(c.c).toBe('1588000000000');
  });

  it('uses the ObjectId time for a missing creation date and NULL for a missing updatedAt', async () => {
    const o = await one<{ c: string; u: string | null }>(`SELECT (extract(epoch FROM created_at))::bigint::text AS c, updated_at AS u FROM orders WHERE id = $1`, [u(oid(7))]);
    expect(o.c).toBe(String(oid(7).getTimestamp().getTime() / 1000));
    expect(o.u).toBeNull();
  });

  it('keeps text exactly: accents, emoji, right-to-left, surrounding spaces, 300 kB notes', async () => {
    const a = await one<{ name: string }>(`SELECT name FROM clients WHERE id = $1`, [u(clientA)]);
    expect(a.name).toBe('  Moussa 😀 Diop  ');
    const b = await one<{ name: string; street: string }>(`SELECT name, address_street AS street FROM clients WHERE id = $1`, [u(clientStringAddress)]);
    expect(b).toEqual({ name: 'مريم', street: 'Quartier Maârif, Casablanca' });
    const o = await one<{ notes: string }>(`SELECT notes FROM orders WHERE id = $1`, [u(oid(1))]);
    expect(o.notes).toBe(longNotes);
  });

  it('flattens nested objects, keeps their unmapped keys and schema-drift fields in legacy_extra', async () => {
    const a = await one<{ city: string; district: string; tags: string[]; total: number; extra: unknown }>(
      `SELECT address_city AS city, address_district AS district, tags, total_orders AS total, legacy_extra AS extra FROM clients WHERE id = $1`, [u(clientA)]);
    expect(a).toEqual({ city: 'Dakar', district: 'Médina', tags: ['vip'], total: 3, extra: { address: { zip: '11000' }, fbLeadId: 'fb-1' } });
    const w = await one<{ extra: unknown }>(`SELECT legacy_extra AS extra FROM workspaces`);
    expect(w.extra).toEqual({ legacyCode: 'WS-001' });
  });

  it('turns both order shapes into order items, and long status histories into child rows', async () => {
    const items = await t.pg.query(`SELECT order_id, position, product_id, name, quantity, unit_price::text AS price FROM order_items ORDER BY order_id, position`);
    expect(items.rows).toEqual([
      { order_id: u(oid(1)), position: 0, product_id: u(product), name: 'Crème karité', quantity: 2, price: '12.5000' },
      { order_id: u(oid(2)), position: 0, product_id: u(product), name: 'Crème', quantity: 1, price: '12500.0000' },
      { order_id: u(oid(2)), position: 1, product_id: null, name: 'Disparu', quantity: 1, price: '3000.0000' },
      { order_id: u(oid(3)), position: 0, product_id: u(product), name: null, quantity: 3, price: '99.5000' },
    ]);
    const both = await one<{ extra: Record<string, unknown> }>(`SELECT legacy_extra AS extra FROM orders WHERE id = $1`, [u(oid(3))]);
    expect(both.extra).toEqual({ product: 'Ancien', quantity: 1, price: 100, $orphans: { clientId: gone.toHexString(), createdBy: dupUser.toHexString() } });
    const h = await one<{ n: string; first: number; last: number; by: string }>(`SELECT count(*)::text AS n, min(position) AS first, max(position) AS last, min(by_id::text) AS by FROM order_status_history WHERE order_id = $1`, [u(oid(2))]);
    expect(h).toEqual({ n: '300', first: 0, last: 299, by: u(owner) });
    const gone_ = await one<{ extra: unknown }>(`SELECT legacy_extra AS extra FROM order_items WHERE order_id = $1 AND position = 1`, [u(oid(2))]);
    expect(gone_.extra).toEqual({ $orphans: { 'items[1].productId': gone.toHexString() } });
  });

  it('rewrites references, hex strings included, into real foreign keys; normalises enum case', async () => {
    const p = await one<{ by: string }>(`SELECT created_by_id AS by FROM products`);
    expect(p.by).toBe(u(owner));
    const o = await one<{ status: string; client: string }>(`SELECT status::text, client_id AS client FROM orders WHERE id = $1`, [u(oid(2))]);
    expect(o).toEqual({ status: 'delivered', client: u(clientA) });
    const w = await one<{ owner: string }>(`SELECT owner_id AS owner FROM workspaces`);
    expect(w.owner).toBe(u(owner)); // written in the second pass of the workspace ↔ user cycle
  });

  it('sets aside what cannot be converted, with the field path, the reason and the original document', async () => {
    const na = await rejectOf(oid(4));
    expect(na.field_path).toBe('items[0].unitPrice');
    expect(na.reason).toMatch(/N\/A/);
    expect(JSON.parse(na.document)).toMatchObject({ _id: { $oid: oid(4).toHexString() } });
    expect(na.run_id).toBe(result.runId);
    const rounding = await rejectOf(oid(5));
    expect(rounding).toMatchObject({ field_path: 'delivery.fee' });
    expect(rounding.reason).toMatch(/decimal places/);
    expect((await rejectOf(oid(6))).field_path).toBe('status');
    expect((await rejectOf(oid(8))).field_path).toBe('workspaceId');
    expect((await rejectOf(oid(9))).reason).toMatch(/time zone/);
  });

  it('rejects rows a unique constraint refuses (duplicate email, duplicate phone) without losing their batch', async () => {
    const dup = await rejectOf(dupUser);
    expect(dup.field_path).toBe('workspaceId,email');
    // The refused document's record is its original BSON, decoded again at the refusal (the batch keeps no decoded documents).
    expect(JSON.parse(dup.document)).toMatchObject({ _id: { $oid: dupUser.toHexString() } });
    expect((await rejectOf(clientDupPhone)).field_path).toBe('workspaceId,phone');
    const n = await one<{ n: string }>(`SELECT count(*)::text AS n FROM clients`);
    expect(n.n).toBe('2');
  });

  it('records every migrated document in the registry, one to one, with the hash of its row', async () => {
    const m = await t.pg.query(`SELECT collection, count(*)::int AS n, count(DISTINCT uuid)::int AS d FROM hybrid_migrate.id_map GROUP BY 1 ORDER BY 1`);
    expect(m.rows).toEqual([
      { collection: 'clients', n: 2, d: 2 },
      { collection: 'orders', n: 4, d: 4 },
      { collection: 'products', n: 1, d: 1 },
      { collection: 'transactions', n: 1, d: 1 },
      { collection: 'users', n: 1, d: 1 },
      { collection: 'workspaces', n: 1, d: 1 },
    ]);
    const stale = await one<{ n: string }>(`SELECT count(*)::text AS n FROM hybrid_migrate.id_map m JOIN workspaces w ON w.id = m.uuid WHERE m.row_hash <> 'x' || w.xmin::text`);
    expect(stale.n).toBe('0');
  });

  it('does nothing when run again: no run recorded, no row written', async () => {
    const before = await one<{ runs: string; map: string }>(`SELECT (SELECT count(*) FROM hybrid_migrate.runs)::text AS runs, (SELECT max(migrated_at) FROM hybrid_migrate.id_map)::text AS map`);
    const again = await runMigrate(t.db, t.pg);
    expect(again.collections.every((c) => c.status === 'already-done' && c.read === 0)).toBe(true);
    const after = await one<{ runs: string; map: string }>(`SELECT (SELECT count(*) FROM hybrid_migrate.runs)::text AS runs, (SELECT max(migrated_at) FROM hybrid_migrate.id_map)::text AS map`);
    expect(after).toEqual(before);
  });
});

describe('text PostgreSQL cannot store', () => {
  // environment.md lists NUL among what FerretDB cannot store; FerretDB 1.24.2 on SQLite does store it, so this runs everywhere.
  it('rejects strings containing NUL with the field path and the offset', async () => {
    await t.db.collection('products').insertOne({ _id: oid(41), workspaceId: ws, name: 'bad\u0000name', createdAt: new Date() });
    await runMigrate(t.db, t.pg, { collections: ['products'], restart: true });
    const r = await rejectOf(oid(41));
    expect(r.field_path).toBe('name');
    expect(r.reason).toMatch(/NUL character at offset 3/);
    expect(JSON.parse(r.document)).toMatchObject({ name: 'bad\u0000name' });
  });
});

describe('variations only a real MongoDB can store', () => {
  it('keeps Decimal128 exact', async (ctx) => {
    skipUnlessRealMongo(ctx, 'FerretDB v1 cannot store Decimal128 (it drops the connection)');
    await t.db.collection('products').insertOne({ _id: oid(40), workspaceId: ws, name: 'Decimal', sellingPrice: Decimal128.fromString('123456789012345.1234'), createdAt: new Date() });
    await runMigrate(t.db, t.pg, { collections: ['products'], restart: true });
    const p = await one<{ sp: string }>(`SELECT selling_price::text AS sp FROM products WHERE id = $1`, [u(oid(40))]);
    expect(p.sp).toBe('123456789012345.1234');
  });

  it('takes a DBRef in a reference field as a reference to its $id', async (ctx) => {
    skipUnlessRealMongo(ctx, 'FerretDB v1 cannot store field names starting with $, and a DBRef is { $ref, $id }');
    await t.db.collection('products').insertOne({ _id: oid(91), workspaceId: ws, name: 'By DBRef', createdBy: new DBRef('users', owner), createdAt: new Date() });
    const r = await runMigrate(t.db, t.pg, { collections: ['products'], restart: true });
    const p = await one<{ by: string }>(`SELECT created_by_id AS by FROM products WHERE id = $1`, [u(oid(91))]);
    expect(p.by).toBe(u(owner));
    expect(r.collections[0]?.coercions).toMatchObject({ 'createdBy:reference-from-dbref': 1 });
  });
});
