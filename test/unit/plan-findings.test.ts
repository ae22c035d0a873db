/** The plan's accumulators: reject grouping, unique keys, unmapped paths and the drift detector. Pure. */
import { readFileSync } from 'node:fs';
import { BSON, Double, Int32, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { PlanFindings, normalizePath, reasonKind, rejectCategory } from '../../src/core/plan-findings.js';
import { UniqueTracker, uniqueChecks } from '../../src/core/plan-uniques.js';
import { unmappedPaths } from '../../src/core/plan-unmapped.js';
import { HISTOGRAM_READ_OPTIONS, TypeHistogram } from '../../src/core/type-histogram.js';
import { createDriftDetector } from '../../src/pipeline/drift-check.js';
import { parsePrismaSchema } from '../../src/schema/prisma-schema.js';
import { resolveMapping } from '../../src/config/resolve-mapping.js';
import { convertDocument } from '../../src/core/transform.js';
import type { MappedCollection } from '../../src/core/mapping.js';
import shipped from '../../hybrid-migrate.config.js';

const schema = parsePrismaSchema(readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8'));
const { mapping } = resolveMapping(shipped, schema);
const clients = mapping.collections.get('clients') as MappedCollection;
const orders = mapping.collections.get('orders') as MappedCollection;

describe('reject grouping', () => {
  it('counts per field (array positions folded) and per kind of reason, keeping a full example and sample ids', () => {
    const f = new PlanFindings();
    f.reject('oid:1', 'items[0].unitPrice', 'items[0].unitPrice not a number: "N/A"');
    f.reject('oid:2', 'items[3].unitPrice', 'items[3].unitPrice not a number: "abc"');
    f.reject('oid:3', 'status', 'status "paid" is not an allowed value, expected one of: pending, confirmed');
    const j = f.toJSON();
    expect(j.rejected.documents).toBe(3);
    expect(j.rejected.byPath).toEqual([
      { path: 'items[].unitPrice', kind: 'not a number: <value>', category: 'not-a-number', example: 'items[0].unitPrice not a number: "N/A"', count: 2, sampleIds: ['oid:1', 'oid:2'] },
      { path: 'status', kind: '<value> is not an allowed value, expected one of: pending, confirmed', category: 'enum', example: expect.any(String), count: 1, sampleIds: ['oid:3'] },
    ]);
  });

  it('sorts reasons into the families an operator acts on', () => {
    expect(rejectCategory('workspaceId is missing, and "workspaceId" is required')).toBe('required-missing');
    expect(rejectCategory('currency is 4 characters long, column allows 3')).toBe('too-long');
    expect(rejectCategory('clientId references clients 0123456789abcdef01234567, which does not exist')).toBe('missing-reference');
    expect(rejectCategory('amount 1.23456 has more than 4 decimal places')).toBe('number-does-not-fit');
    expect(reasonKind('clientId references clients 0123456789abcdef01234567, which does not exist', 'clientId')).toBe('references clients <id>, which does not exist');
    expect(normalizePath('statusHistory[12].by')).toBe('statusHistory[].by');
  });
});

describe('unique keys', () => {
  const ws = new ObjectId();
  const client = (phone: string | null) => {
    const r = convertDocument(clients, { _id: new ObjectId(), workspaceId: ws, name: 'A', ...(phone === null ? {} : { phone }) });
    if (!r.ok) throw new Error(r.reason);
    return r.doc;
  };

  it('finds the second document with the same (workspaceId, phone), naming the first; NULLs never collide', () => {
    const checks = uniqueChecks(clients);
    expect(checks.map((c) => c.fields.join(','))).toEqual(['workspaceId,phone']);
    const t = new UniqueTracker(checks);
    const first = client('+221 77');
    expect(t.check(first)).toBeUndefined();
    expect(t.check(client('+221 77'))).toEqual({ model: 'Client', fields: 'workspaceId,phone', firstId: first.sourceKey });
    expect(t.check(client('+221 78'))).toBeUndefined();
    expect(t.check(client(null))).toBeUndefined();
    expect(t.check(client(null))).toBeUndefined();
    expect(t.keys).toBe(2);
  });

  it('says the count is a lower bound once the memory cap is reached', () => {
    const t = new UniqueTracker(uniqueChecks(clients), 1);
    t.check(client('1'));
    t.check(client('2'));
    expect(t.incomplete).toBe(true);
  });
});

describe('unmapped paths', () => {
  it('lists top-level drift, unmapped keys of partly mapped objects and of array elements, and ignored fields', () => {
    const doc = { _id: new ObjectId(), legacyCode: 'X', __v: 0, delivery: { city: 'Dakar', zip: '1' }, items: [{ name: 'a', sku: 'S' }, { name: 'b' }] };
    expect(unmappedPaths(orders, doc)).toEqual([
      { path: 'legacyCode', destination: 'legacyExtra' },
      { path: 'delivery.zip', destination: 'legacyExtra' },
      { path: '__v', destination: 'ignored' },
      { path: 'items[].sku', destination: 'legacyExtra' },
    ]);
  });
});

describe('drift detector', () => {
  const decoded = (d: Record<string, unknown>) => BSON.deserialize(BSON.serialize(d), HISTOGRAM_READ_OPTIONS);
  const h = new TypeHistogram();
  h.observe(decoded({ _id: new ObjectId(), price: new Int32(1), name: 'a', tags: ['x'] }));
  h.observe(decoded({ _id: new ObjectId(), price: new Double(1.5), name: null }));
  const plan = { createdAt: '2025-01-01T00:00:00.000Z', scan: { kind: 'full' }, collections: [{ name: 'products', histogram: h.toJSON() }] };

  it('is silent on documents like the plan saw (promoted numbers match Int32 and Double)', () => {
    const d = createDriftDetector(plan, 'products');
    d.observe({ _id: new ObjectId(), price: 3, name: 'b', tags: ['y', 'z'] });
    expect(d.warnings()).toEqual([]);
  });

  it('reports a new field and a new type with counts and the first document', () => {
    const d = createDriftDetector(plan, 'products');
    const id = new ObjectId();
    d.observe({ _id: id, price: '12', name: 'b', fbLeadId: 'L1' });
    d.observe({ _id: new ObjectId(), fbLeadId: 'L2' });
    const w = d.warnings();
    expect(w).toHaveLength(2);
    expect(w).toContainEqual(`products.price: string values, the plan of 2025-01-01T00:00:00.000Z saw only int, double: 1 occurrence(s), first in oid:${id.toHexString()}`);
    expect(w.find((l) => l.startsWith('products.fbLeadId: field not seen by the plan'))).toMatch(/2 occurrence\(s\), first in oid:/);
  });

  it('keeps at most maxWarnings distinct drifts', () => {
    const d = createDriftDetector(plan, 'products', { maxWarnings: 2 });
    d.observe({ a: 1, b: 1, c: 1, e: 1 });
    expect(d.warnings()).toHaveLength(3);
    expect(d.warnings()[2]).toMatch(/2 more occurrence/);
  });

  it('finds nested paths in arrays and objects, the same with every document read (paths remembered between documents)', () => {
    const nested = new TypeHistogram();
    nested.observe(decoded({ _id: new ObjectId(), items: [{ sku: 'a', qty: new Int32(1) }], address: { city: 'x' }, grid: [[new Int32(1)]] }));
    const p = { createdAt: '2025-01-01T00:00:00.000Z', scan: { kind: 'full' }, collections: [{ name: 'orders', histogram: nested.toJSON() }] };
    const d = createDriftDetector(p, 'orders');
    const first = new ObjectId();
    d.observe({ _id: first, items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2, note: 'n' }], address: { city: 'y', zip: 1 }, grid: [['s']] });
    d.observe({ _id: new ObjectId(), items: [{ sku: 'c', qty: 3, note: 'm' }], address: { city: 'z' }, grid: [[2]] });
    const at = `first in oid:${first.toHexString()}`;
    expect(d.warnings()).toEqual([
      `orders.items[].note: field not seen by the plan of 2025-01-01T00:00:00.000Z: 2 occurrence(s), ${at}`,
      `orders.address.zip: field not seen by the plan of 2025-01-01T00:00:00.000Z: 1 occurrence(s), ${at}`,
      `orders.grid[][]: string values, the plan of 2025-01-01T00:00:00.000Z saw only int: 1 occurrence(s), ${at}`,
    ]);
  });

  it('says so when the plan did not cover the collection', () => {
    const d = createDriftDetector(plan, 'orders');
    d.observe({ a: 1 });
    expect(d.warnings()).toEqual(['orders: the plan of 2025-01-01T00:00:00.000Z did not assess this collection; run "hybrid-migrate plan" again']);
  });
});
