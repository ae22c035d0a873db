/**
 * The one reading of registry source keys (`oid:<hex>`, `str:<s>`, `int:<n>`, `date:<ms>`,
 * `bin:<subtype>:<base64>`, `obj:{…}`…, written by sourceIdKey in src/core/ids.ts) back into
 * the `_id` a MongoDB query finds.
 * Used by verify (registry entries whose document may be gone) and by the reference index
 * (references whose document may exist in the source). Pure.
 */
import { Binary, Decimal128, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'mongodb';
import { EJSON } from '../core/bson.js';
import { sourceIdKey, uuidToObjectId } from '../core/ids.js';
import type { PendingReference } from '../core/transform.js';

/**
 * The `_id` a source key stands for, whatever its kind: ObjectIds, strings, numbers, dates,
 * binaries (UUIDs), booleans, embedded documents (compound `_id`s), arrays… Undefined only when
 * no value gives back exactly this key (an `undefined` `_id`, an embedded document with
 * integer-like field names, which JavaScript reorders; callers count those as unchecked).
 * A candidate is accepted only when sourceIdKey gives the key back, so a string holding `,"`
 * inside a compound `_id` is found by trying each place it could end.
 */
export function idOfSourceKey(key: string): { id: unknown } | undefined {
  // Nearly every key (verify reads them all): an ObjectId's, read at once.
  if (key.length === 28 && key.startsWith('oid:') && OID_HEX.test(key)) return { id: new ObjectId(key.slice(4)) };
  for (const c of parseKey(key, 0, true)) {
    if (c.end === key.length && sourceIdKey(c.value) === key) return { id: c.value };
  }
  return undefined;
}

interface Parsed {
  value: unknown;
  end: number;
}

const TAG = /^([a-z0-9]+):/;
const OID_HEX = /^oid:[0-9a-f]{24}$/;

/** Every reading of the key starting at `pos` (one for most kinds; a nested string may end at several places). */
function* parseKey(s: string, pos: number, top: boolean): Generator<Parsed> {
  const tag = TAG.exec(s.slice(pos, pos + 12))?.[1];
  if (tag === undefined) return;
  const at = pos + tag.length + 1;
  const rest = s.slice(at);
  const token = (re: RegExp): string | undefined => re.exec(rest)?.[0];
  switch (tag) {
    case 'oid': {
      const hex = token(/^[0-9a-f]{24}/);
      if (hex) yield { value: new ObjectId(hex), end: at + 24 };
      return;
    }
    case 'str':
      if (top) {
        yield { value: rest, end: s.length };
        return;
      }
      for (let end = at; end <= s.length; end++) {
        if (end === s.length || s[end] === ',' || s[end] === '}' || s[end] === ']') yield { value: s.slice(at, end), end };
      }
      return;
    case 'utf16': {
      const hex = token(/^(?:[0-9a-f]{4})*/) ?? '';
      let text = '';
      for (let i = 0; i < hex.length; i += 4) text += String.fromCharCode(parseInt(hex.slice(i, i + 4), 16));
      yield { value: text, end: at + hex.length };
      return;
    }
    case 'int': {
      const digits = token(/^-?\d+/);
      if (!digits) return;
      const n = Number(digits);
      // MongoDB matches 12, NumberLong(12) and 12.0 alike; beyond 2^53 only a Long is exact.
      yield { value: Number.isSafeInteger(n) ? n : Long.fromString(digits), end: at + digits.length };
      return;
    }
    case 'double': {
      const text = token(/^(?:NaN|-?Infinity|-?\d+(?:\.\d+)?(?:e[+-]\d+)?)/);
      if (text) yield { value: Number(text), end: at + text.length };
      return;
    }
    case 'decimal': {
      const text = token(/^(?:NaN|-?Infinity|-?\d+(?:\.\d+)?(?:E[+-]?\d+)?)/i);
      if (text) yield { value: Decimal128.fromString(text), end: at + text.length };
      return;
    }
    case 'bool': {
      const text = token(/^(?:true|false)/);
      if (text) yield { value: text === 'true', end: at + text.length };
      return;
    }
    case 'null':
      yield { value: null, end: at };
      return;
    case 'minkey':
      yield { value: new MinKey(), end: at };
      return;
    case 'maxkey':
      yield { value: new MaxKey(), end: at };
      return;
    case 'date': {
      const ms = token(/^-?\d+/);
      if (ms) yield { value: new Date(Number(ms)), end: at + ms.length };
      return;
    }
    case 'ts': {
      const digits = token(/^\d+/);
      if (digits) yield { value: Timestamp.fromString(digits, 10), end: at + digits.length };
      return;
    }
    case 'bin': {
      const m = /^(\d+):([A-Za-z0-9+/]*={0,2})/.exec(rest);
      if (m) yield { value: new Binary(Buffer.from(m[2] as string, 'base64'), Number(m[1])), end: at + m[0].length };
      return;
    }
    case 'obj':
      if (s[at] === '{') yield* parseEntries(s, at + 1, Object.create(null) as Record<string, unknown>);
      return;
    case 'arr':
      if (s[at] === '[') yield* parseItems(s, at + 1, []);
      return;
    case 'ejson':
      if (top) {
        try {
          yield { value: EJSON.parse(rest, { relaxed: false }), end: s.length };
        } catch {
          // Not Extended JSON after all: no reading.
        }
      }
      return;
    default:
      return;
  }
}

/** The fields of an embedded document key from `pos` (after `{`), in order. */
function* parseEntries(s: string, pos: number, into: Record<string, unknown>): Generator<Parsed> {
  if (s[pos] === '}') {
    yield { value: { ...into }, end: pos + 1 };
    return;
  }
  const name = /^"(?:[^"\\]|\\.)*"/.exec(s.slice(pos))?.[0];
  if (!name || s[pos + name.length] !== ':') return;
  const field = JSON.parse(name) as string;
  for (const v of parseKey(s, pos + name.length + 1, false)) {
    const next = { ...into, [field]: v.value };
    if (s[v.end] === ',') yield* parseEntries(s, v.end + 1, next);
    else if (s[v.end] === '}') yield { value: next, end: v.end + 1 };
  }
}

/** The items of an array key from `pos` (after `[`). */
function* parseItems(s: string, pos: number, into: unknown[]): Generator<Parsed> {
  if (s[pos] === ']' && into.length === 0) {
    yield { value: [], end: pos + 1 };
    return;
  }
  for (const v of parseKey(s, pos, false)) {
    const next = [...into, v.value];
    if (s[v.end] === ',') yield* parseItems(s, v.end + 1, next);
    else if (s[v.end] === ']') yield { value: next, end: v.end + 1 };
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
