/**
 * The mapping resolved from configuration + Prisma schema, and document conversion on it:
 * pure, no database. What needs PostgreSQL (constraints, the rows as stored) is in
 * test/integration/migrate-values.test.ts.
 */
import { DBRef, Decimal128, Double, Long, ObjectId } from 'bson';
import { objectIdToUuid, parseReference } from '../../src/core/ids.js';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parsePrismaSchema } from '../../src/schema/prisma-schema.js';
import { resolveMapping } from '../../src/config/resolve-mapping.js';
import { validateConfigShape } from '../../src/config/validate-config.js';
import { convertDocument, remainder, settleReferences, writtenColumns, type RowBuffer } from '../../src/core/transform.js';
import { unmappedPaths } from '../../src/core/plan-unmapped.js';
import type { HybridMigrateConfig } from '../../src/config/define-config.js';
import type { MappedCollection } from '../../src/core/mapping.js';
import shipped from '../../hybrid-migrate.config.js';

const schema = parsePrismaSchema(readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8'));

function mapped(config: HybridMigrateConfig, name: string): MappedCollection {
  const { mapping, issues } = resolveMapping(config, schema);
  expect(issues).toEqual([]);
  return mapping.collections.get(name) as MappedCollection;
}

describe('configuration shape', () => {
  it('lists every problem with its path, unknown keys and __proto__ included', () => {
    const issues = validateConfigShape({ batchSize: 0, concurrency: 'x', colections: {}, collections: { orders: { modle: 'Order', fields: { a: { from: '' } } }, ['__proto__']: { model: 1 } } });
    expect(issues.map((i) => i.path)).toEqual(['batchSize', 'concurrency', 'colections', 'collections.orders.modle', 'collections.orders.fields.a.from', 'collections.__proto__.model']);
  });

  it('accepts the shipped configuration', () => {
    expect(validateConfigShape(shipped)).toEqual([]);
  });
});

describe('resolving the mapping against the Prisma schema', () => {
  it('orders collections by foreign keys and breaks the workspace ↔ user cycle on the optional side', () => {
    const { mapping, issues } = resolveMapping(shipped, schema);
    expect(issues).toEqual([]);
    expect(mapping.loadOrder.indexOf('workspaces')).toBeLessThan(mapping.loadOrder.indexOf('users'));
    expect(mapping.loadOrder.indexOf('clients')).toBeLessThan(mapping.loadOrder.indexOf('orders'));
    expect(mapping.loadOrder.indexOf('orders')).toBeLessThan(mapping.loadOrder.indexOf('transactions'));
    expect(mapping.deferred).toEqual([{ collection: 'workspaces', field: 'ownerId', targetCollection: 'users' }]);
  });

  it('reports unknown models and fields, and policies that cannot apply, all at once', () => {
    const { issues } = resolveMapping(
      { collections: { orders: { model: 'Nope' }, clients: { fields: { nosuch: 'x', name: { onInvalid: 'extra' } } }, workspaces: { extraField: 'name' } } },
      schema,
    );
    expect(issues.map((i) => i.path)).toEqual([
      'collections.orders.model',
      'collections.clients.fields.nosuch',
      'collections.clients.fields.name.onInvalid',
      'collections.workspaces.extraField',
    ]);
  });

  it('leaves a field unwritten when ignore drops its source field, top-level or dotted, and keeps neither in the extra JSON', () => {
    // Before: `ignore` only kept the field out of the extra JSON; a column of the same name still copied it.
    const clients = mapped({ collections: { clients: { ignore: ['phone', 'meta.debug'] } } }, 'clients');
    expect(clients.columns.find((c) => c.column.field === 'phone')?.source.kind).toBe('none');
    const written = writtenColumns(clients.columns).map((c) => c.column.field);
    expect(written).not.toContain('phone');
    const r = convertDocument(clients, { _id: new ObjectId(), workspaceId: new ObjectId(), name: 'Awa', phone: '+221 77', email: 'a@b.sn', meta: { debug: 1, source: 'app' } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const row = r.doc.rows[0] as RowBuffer;
    expect(row.values[written.indexOf('email')]).toBe('a@b.sn');
    expect(row.extra).toEqual({ meta: { source: 'app' } });
    expect(unmappedPaths(clients, { _id: 1, phone: 'x', meta: { debug: 1 } })).toEqual([
      { path: 'phone', destination: 'ignored' },
      { path: 'meta.debug', destination: 'ignored' },
    ]);
  });

  it('reports a field or child mapping that reads an ignored field, and a required field left without a source', () => {
    const { issues } = resolveMapping(
      {
        collections: {
          clients: { ignore: ['phone', 'name'], fields: { email: 'phone' } },
          orders: { ignore: ['items'], children: [{ model: 'OrderItem', from: 'items' }] },
        },
      },
      schema,
    );
    expect(issues.map((i) => i.path)).toEqual(['collections.clients.fields.name', 'collections.clients.fields.email', 'collections.orders.children[0].from']);
    expect(issues[0]?.message).toMatch(/required field "Client.name" has no default.*remove "name" from ignore/);
    expect(issues[1]?.message).toMatch(/reads "phone", which collections.clients.ignore drops/);
  });

  it('finds the model of a collection by table name without configuration', () => {
    const c = mapped({ collections: { goals: {} } }, 'goals');
    expect(c.model.name).toBe('Goal');
  });
});

describe('converting a document', () => {
  const orders = mapped(shipped, 'orders');
  const ws = new ObjectId('5f1d7a3b2c4e5f6a7b8c9d01');

  it('keeps what no column maps, including unmapped keys of mapped objects and wrongly typed values', () => {
    expect(remainder({ _id: 1, a: 1, b: { c: 1, d: 2 }, e: 'text', __v: 3 }, [['_id'], ['a'], ['b', 'c'], ['e', 'f']], new Set(['__v']))).toEqual({ b: { d: 2 }, e: 'text' });
  });

  it('rejects with the field path when a value cannot be converted', () => {
    const r = convertDocument(orders, { _id: new ObjectId(), workspaceId: ws, status: 'pending', items: [{ unitPrice: 'N/A' }] });
    expect(r).toMatchObject({ ok: false, path: 'items[0].unitPrice' });
  });

  it('takes a DBRef in a reference field as a reference to its $id, and counts it', () => {
    // Before: a DBRef was an opaque value, hashed into a UUID no row has, so every such reference was an orphan.
    const orders = mapped(shipped, 'orders');
    const user = new ObjectId('5f1d7a3b2c4e5f6a7b8c9d07');
    const r = convertDocument(orders, { _id: new ObjectId(), workspaceId: ws, status: 'pending', createdBy: new DBRef('users', user) });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const ref = r.doc.references.find((x) => x.mapped.column.field === 'createdById');
    expect(ref).toMatchObject({ uuid: objectIdToUuid(user), targetCollection: 'users', sourceText: user.toHexString() });
    expect(r.doc.coercions).toContain('createdBy:reference-from-dbref');
    expect(parseReference(new DBRef('users', user))).toEqual({ kind: 'objectId', hex: user.toHexString() });
  });

  it("with onInvalid: 'extra', writes NULL and keeps the original value in the extra JSON", () => {
    const config: HybridMigrateConfig = { ...shipped, collections: { ...shipped.collections, orders: { ...shipped.collections?.orders, fields: { ...shipped.collections?.orders?.fields, deliveryFee: { from: 'delivery.fee', onInvalid: 'extra' } } } } };
    const c = mapped(config, 'orders');
    const r = convertDocument(c, { _id: new ObjectId(), workspaceId: ws, status: 'pending', delivery: { fee: 'gratuit' } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const settled = settleReferences(r.doc, () => true, () => false, () => undefined);
    expect(settled).toEqual({ ok: true });
    const row = r.doc.rows[0];
    const feeIndex = c.columns.filter((x) => x.source.kind !== 'none').findIndex((x) => x.column.field === 'deliveryFee');
    const extraIndex = row?.extraIndex ?? -1;
    expect(row?.values[feeIndex]).toBeNull();
    expect(JSON.parse(row?.values[extraIndex] ?? 'null')).toEqual({ $invalid: { 'delivery.fee': 'gratuit' } });
  });

  it("with onInvalid: 'extra', a NaN or ±Infinity the column refuses is kept as canonical Extended JSON, a text with NUL split at each NUL, not rejected by the extra column too", () => {
    const config: HybridMigrateConfig = { ...shipped, collections: { ...shipped.collections, orders: { ...shipped.collections?.orders, fields: { ...shipped.collections?.orders?.fields, deliveryFee: { from: 'delivery.fee', onInvalid: 'extra' } } } } };
    const c = mapped(config, 'orders');
    for (const [fee, kept] of [
      [Number.NaN, { $numberDouble: 'NaN' }],
      [Number.NEGATIVE_INFINITY, { $numberDouble: '-Infinity' }],
      [new Double(Number.POSITIVE_INFINITY), { $numberDouble: 'Infinity' }],
      [Decimal128.fromString('NaN'), { $numberDecimal: 'NaN' }],
      ['12\u000050', { $splitAtNul: ['12', '50'] }],
    ] as const) {
      const r = convertDocument(c, { _id: new ObjectId(), workspaceId: ws, status: 'pending', delivery: { fee } });
      expect(r.ok, String(fee)).toBe(true);
      if (!r.ok) return;
      expect(settleReferences(r.doc, () => true, () => false, () => undefined), String(fee)).toEqual({ ok: true });
      const row = r.doc.rows[0];
      expect(JSON.parse(row?.values[row?.extraIndex ?? -1] ?? 'null'), String(fee)).toEqual({ $invalid: { 'delivery.fee': kept } });
    }
  });

  it('applies missing-reference policies: reject for a required key, keep for an optional one', () => {
    const r = convertDocument(orders, { _id: new ObjectId(), workspaceId: ws, clientId: new ObjectId('5f1d7a3b2c4e5f6a7b8c9dff'), status: 'pending' });
    if (!r.ok) throw new Error(r.reason);
    const orphans: string[] = [];
    const settled = settleReferences(r.doc, (collection) => collection === 'workspaces', () => false, (ref) => orphans.push(ref.mapped.label));
    expect(settled).toEqual({ ok: true });
    expect(orphans).toEqual(['clientId']);
    const extra = r.doc.rows[0]?.values[r.doc.rows[0].extraIndex];
    expect(JSON.parse(extra ?? 'null')).toEqual({ $orphans: { clientId: '5f1d7a3b2c4e5f6a7b8c9dff' } });
    const r2 = convertDocument(orders, { _id: new ObjectId(), workspaceId: ws, status: 'pending' });
    if (!r2.ok) throw new Error(r2.reason);
    expect(settleReferences(r2.doc, () => false, () => false, () => undefined)).toMatchObject({ ok: false, path: 'workspaceId' });
  });

  it('keeps Decimal128 and Int64 exact and converts both order shapes to items (BSON values FerretDB cannot store)', () => {
    const r = convertDocument(orders, {
      _id: new ObjectId(), workspaceId: ws, status: 'pending',
      product: 'Crème', productId: new ObjectId(), quantity: new Long('3'), price: Decimal128.fromString('123456789012345.1234'),
    });
    if (!r.ok) throw new Error(r.reason);
    const item = r.doc.rows.find((row) => row.child === 0);
    expect(item?.values).toContain('123456789012345.1234');
    expect(item?.values).toContain('3');
    expect(item?.values).toContain('Crème');
  });

  it('rejects NUL characters in text with the offset, and keeps the document otherwise identical', () => {
    const r = convertDocument(orders, { _id: new ObjectId(), workspaceId: ws, status: 'pending', notes: 'a\u0000b' });
    expect(r).toMatchObject({ ok: false, path: 'notes' });
    if (!r.ok) expect(r.reason).toMatch(/NUL/);
  });
});
