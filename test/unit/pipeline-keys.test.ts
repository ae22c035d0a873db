/**
 * The pipeline's pure parts: the one reading of source keys back into `_id`s (registry keys
 * and references alike, ObjectIds, hex strings, string and numeric ids), and the unique-key
 * prediction that refuses, in `_id` order, what PostgreSQL would refuse.
 */
import { readFileSync } from 'node:fs';
import { Binary, Decimal128, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { idToUuid, objectIdToUuid, sourceIdKey } from '../../src/core/ids.js';
import { convertDocument } from '../../src/core/transform.js';
import type { MappedCollection } from '../../src/core/mapping.js';
import { parsePrismaSchema } from '../../src/schema/prisma-schema.js';
import { resolveMapping } from '../../src/config/resolve-mapping.js';
import { idOfReference, idOfSourceKey } from '../../src/pipeline/source-keys.js';
import { UniqueKeyPrediction } from '../../src/pipeline/batch-sinks.js';
import shipped from '../../hybrid-migrate.config.js';

const schema = parsePrismaSchema(readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8'));
const { mapping } = resolveMapping(shipped, schema);
const clients = mapping.collections.get('clients') as MappedCollection;
const orders = mapping.collections.get('orders') as MappedCollection;

describe('source keys read back', () => {
  it('gives back the _id of every key kind: binary UUIDs, dates and compound documents included', () => {
    const oid = new ObjectId('5f1d7a3b2c4e5f6a7b8c9d01');
    const uuid = new Binary(Buffer.from('0f8fad5bd9cb469fa16570867728950e', 'hex'), 4);
    const ids = [
      oid, 'legacy-7', '', 'a,"b":str:c}', 12, -3, 2.5, -0.125, Number.NaN, 9007199254740993n, Decimal128.fromString('1.50'), true, null,
      new Date(0), new Date(-86_400_000), uuid, new Binary(Buffer.from([1, 2, 3]), 0), Timestamp.fromBits(7, 1700000000), new MinKey(), new MaxKey(),
      { device: 'SN-00000', hour: new Date(1_700_000_000_000) },
      { a: 'x,"y":str:z', b: { c: [1, 'two', oid] } },
      [1, 'a]b', { k: null }], [], {},
      'bad \ud800 surrogate',
    ];
    for (const id of ids) {
      const back = idOfSourceKey(sourceIdKey(id));
      expect(back, sourceIdKey(id)).toBeDefined();
      expect(sourceIdKey(back?.id), sourceIdKey(id)).toBe(sourceIdKey(id));
    }
    // A query finds the document by it: the binary keeps its subtype, the date is a Date, the compound id its field order.
    expect(idOfSourceKey(sourceIdKey(uuid))?.id).toEqual(uuid);
    expect(idOfSourceKey(sourceIdKey(new Date(5)))?.id).toEqual(new Date(5));
    expect(Object.keys(idOfSourceKey(sourceIdKey({ z: 1, a: 2 }))?.id as object)).toEqual(['z', 'a']);
  });

  it('gives nothing for a key no _id value has', () => {
    expect(idOfSourceKey('oid:not-hex')).toBeUndefined();
    expect(idOfSourceKey('undefined:')).toBeUndefined();
    expect(idOfSourceKey('nosuchkind:1')).toBeUndefined();
    expect(idOfSourceKey('obj:{"a":int:1')).toBeUndefined();
    // JavaScript puts integer-like field names first: no object has this key, so it is not guessed.
    expect(idOfSourceKey('obj:{"b":int:1,"1":int:2}')).toBeUndefined();
  });

  it("reads a reference's target _id back whatever the value was: ObjectId, hex string, string id, number", () => {
    const ws = new ObjectId('5f1d7a3b2c4e5f6a7b8c9d01');
    const refOf = (clientId: unknown) => {
      const r = convertDocument(orders, { _id: new ObjectId(), workspaceId: ws, clientId, status: 'pending', createdAt: new Date(0) });
      if (!r.ok) throw new Error(r.reason);
      const ref = r.doc.references.find((x) => x.targetCollection === 'clients');
      if (!ref) throw new Error('no client reference');
      return ref;
    };
    const client = new ObjectId('5f1d7a3b2c4e5f6a7b8ca001');
    for (const [value, id] of [
      [client, client],
      [client.toHexString(), client],
      [client.toHexString().toUpperCase(), client],
      ['legacy-client-7', 'legacy-client-7'],
      [42, 42],
      [Long.fromString('9007199254740993'), 9007199254740993n],
    ] as [unknown, unknown][]) {
      const ref = refOf(value);
      // The reference's UUID is the UUID of the document it names: found in the source by idOfReference, matched by idToUuid.
      expect(ref.uuid, String(value)).toBe(idToUuid('clients', id));
      expect(sourceIdKey(idOfReference(ref)?.id), String(value)).toBe(sourceIdKey(id));
    }
    expect(refOf(client).uuid).toBe(objectIdToUuid(client));
  });
});

describe('unique-key prediction', () => {
  const ws = new ObjectId();
  const settled = (phones: (string | null)[], from = 0) => ({
    rejects: [],
    docs: phones.map((phone, i) => {
      const r = convertDocument(clients, { _id: new ObjectId(`5f1d7a3b2c4e5f6a7b8cb0${String(from + i).padStart(2, '0')}`), workspaceId: ws, name: 'A', phone });
      if (!r.ok) throw new Error(r.reason);
      return { converted: r.doc, sourceJson: () => '{}', deferred: [] };
    }),
  });

  it('refuses the later documents holding a key, across batches, with the field path a write records; NULLs never collide', async () => {
    const p = new UniqueKeyPrediction(clients);
    const first = await p.put(settled(['1', '2', '1', null]));
    expect(first.written).toBe(3);
    expect(first.refused.map((r) => [r.sourceKey, r.fieldPath])).toEqual([['oid:5f1d7a3b2c4e5f6a7b8cb002', 'workspaceId,phone']]);
    expect(first.refused[0]?.reason).toBe('duplicate key (workspaceId, phone) of Client: the document oid:5f1d7a3b2c4e5f6a7b8cb000 holds it first');
    const second = await p.put(settled([null, '2'], 10));
    expect(second.written).toBe(1);
    expect(p.duplicates()).toEqual([
      { model: 'Client', fields: 'workspaceId,phone', count: 2, samples: [{ id: 'oid:5f1d7a3b2c4e5f6a7b8cb002', firstId: 'oid:5f1d7a3b2c4e5f6a7b8cb000' }, { id: 'oid:5f1d7a3b2c4e5f6a7b8cb011', firstId: 'oid:5f1d7a3b2c4e5f6a7b8cb001' }] },
    ]);
    expect(p.rows).toBe(4);
    expect(p.incomplete).toBe(false);
  });
});
