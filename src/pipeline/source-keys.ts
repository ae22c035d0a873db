/**
 * The one reading of registry source keys (`oid:<hex>`, `str:<s>`, `int:<n>`, `double:<n>`,
 * written by sourceIdKey in src/core/ids.ts) back into the `_id` a MongoDB query finds.
 * Used by verify (registry entries whose document may be gone) and by the reference index
 * (references whose document may exist in the source). Pure.
 */
import { Long, ObjectId } from 'mongodb';
import { uuidToObjectId } from '../core/ids.js';
import type { PendingReference } from '../core/transform.js';

/**
 * The `_id` a source key stands for, for the key kinds an `_id` query can find exactly;
 * undefined for the others (dates, binaries, objects…: callers count them as unchecked or missing).
 */
export function idOfSourceKey(key: string): { id: unknown } | undefined {
  const colon = key.indexOf(':');
  const tag = key.slice(0, colon);
  const rest = key.slice(colon + 1);
  switch (tag) {
    case 'oid':
      return /^[0-9a-f]{24}$/.test(rest) ? { id: new ObjectId(rest) } : undefined;
    case 'str':
      return { id: rest };
    case 'int': {
      const n = Number(rest);
      // MongoDB matches 12, NumberLong(12) and 12.0 alike; beyond 2^53 only a Long is exact.
      return { id: Number.isSafeInteger(n) ? n : Long.fromString(rest) };
    }
    case 'double': {
      const n = Number(rest);
      return Number.isFinite(n) ? { id: n } : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The `_id` of the document a reference points to. Which source values are references is
 * transform's rule (parseReference): ObjectIds, their 24-hex strings and `{$oid}` become the
 * ObjectId's UUID (reversible), any other value (a string id, a number) the UUID of its
 * source key. So: the ObjectId read back from the UUID, or the value read back from the key.
 */
export function idOfReference(ref: Pick<PendingReference, 'uuid' | 'sourceText'>): { id: unknown } | undefined {
  const hex = uuidToObjectId(ref.uuid);
  if (hex !== null) return { id: new ObjectId(hex) };
  return idOfSourceKey(ref.sourceText);
}
