/**
 * The reference index's compact table of known ids behaves exactly as a Map keyed by the same
 * strings: canonical UUIDs in the packed table, every other key (uppercase, `<field>=<text>`,
 * near-UUIDs) by its exact text, through growth.
 */
import { ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { KnownIds, type Found } from '../../src/pipeline/known-ids.js';
import { idToUuid, objectIdToUuid } from '../../src/core/ids.js';

const FOUND: Found[] = ['target', 'source', 'missing'];

describe('KnownIds', () => {
  it('answers as a Map does, for 20,000 keys of every kind, through growth', () => {
    const known = new KnownIds(16);
    const model = new Map<string, Found>();
    const keys: string[] = [];
    for (let i = 0; i < 5000; i++) {
      // ObjectId UUIDs begin with the timestamp: consecutive ids share their first words.
      const oid = new ObjectId(Math.floor(1_600_000_000 + i / 100).toString(16) + i.toString(16).padStart(16, '0'));
      const u = objectIdToUuid(oid);
      keys.push(u, idToUuid('clients', `client-${i}`), u.toUpperCase(), `clientId=${i}`);
    }
    // Near-UUIDs: a wrong dash, a non-hex digit, one character short.
    keys.push('00000000-0000-0000-0000-00000000000g', '00000000_0000-0000-0000-000000000000', '00000000-0000-0000-0000-00000000000', '');
    keys.forEach((k, i) => {
      const f = FOUND[i % 3] as Found;
      known.set(k, f);
      model.set(k, f);
      // Every 7th key asked again and changed, as a later lookup does.
      if (i % 7 === 0) {
        known.set(k, 'target');
        model.set(k, 'target');
      }
    });
    expect(known.size).toBe(model.size);
    for (const k of keys) expect(known.get(k), k).toBe(model.get(k));
    // Keys never set: absent, including the lowercase form of a key set only in uppercase.
    const absent = [idToUuid('clients', 'never'), objectIdToUuid(new ObjectId()), 'clientId=-1', '00000000-0000-0000-0000-000000000000'];
    for (const k of absent) {
      expect(known.has(k), k).toBe(false);
      expect(known.get(k)).toBeUndefined();
    }
    const upperOnly = new KnownIds();
    const u = idToUuid('clients', 'x');
    upperOnly.set(u.toUpperCase(), 'target');
    expect(upperOnly.has(u)).toBe(false);
    expect(upperOnly.get(u.toUpperCase())).toBe('target');
  });
});
