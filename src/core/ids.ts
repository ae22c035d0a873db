/**
 * Deterministic ids. Pure, no I/O.
 *
 * ObjectId → UUID version 8 (RFC 9562 custom layout), reversible and time-ordered:
 *   bytes 0-5   ObjectId timestamp (seconds) × 1000 as 48-bit big-endian unix ms — the UUIDv7
 *               position, so migrated rows interleave in time with the application's UUIDv7
 *   byte  6     0x80 | (oid[4] >> 4)            version 8 + high nibble of oid[4]
 *   byte  7     (oid[4] & 0x0f) << 4            low nibble of oid[4], low nibble 0
 *   byte  8     0x80                            RFC variant (10) + 6 zero marker bits
 *   bytes 9-15  oid[5..11]
 * Byte order of the UUIDs equals byte order of the ObjectIds (PostgreSQL compares uuid
 * bytewise), so an `_id` range maps to a uuid range. Version 8 never collides with the
 * application's v4/v7 ids nor with the v5 ids of nameUuid.
 *
 * Every other `_id` (string, number, …) → UUIDv5 over a project namespace and a type-tagged
 * canonical key (sourceIdKey).
 */
import { sha1 } from './sha1.js';
import { EJSON } from './bson.js';
import { bsonTypeOf, isDate, isWellFormed } from './values/conversion.js';
import { formatDecimal, parseDecimalLiteral } from './values/decimal-text.js';

/** UUIDv5(URL namespace, 'urn:hybrid-migrate:source-id'): the namespace of every nameUuid. Never change it. */
export const PROJECT_NAMESPACE_UUID = '8e9676e3-ae94-5dea-99ee-9b1b309ffd1c';

/** ASCII code → nibble value, -1 when not a hex digit. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[65 + i] = 10 + i;
  NIBBLE[97 + i] = 10 + i;
}

/** Reused scratch bytes for hex-string input (the functions below are synchronous). */
const scratch = new Uint8Array(16);

/** ASCII hex digits of every byte value, two per byte. */
const HEX_ASCII = Buffer.from(Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).join(''), 'latin1');

/** The two ASCII hex digits of every byte value, as character codes. */
const HI = new Uint16Array(256);
const LO = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  HI[i] = HEX_ASCII[2 * i] as number;
  LO[i] = HEX_ASCII[2 * i + 1] as number;
}
const hi = (b: ArrayLike<number>, i: number): number => HI[b[i] as number] as number;
const lo = (b: ArrayLike<number>, i: number): number => LO[b[i] as number] as number;

/**
 * The 24 lowercase hex digits of an ObjectId's 12 bytes, as ONE flat string (built with `+`
 * from two-digit pieces, an id was a rope of about twenty nodes until V8 flattened it, and a
 * batch keeps tens of thousands of them until it is written), from character codes:
 * a third of the time of bson's toHexString (a Buffer and its hex decoding per call), which
 * was 7% of what the conversion allocated (every reference and every `_id`).
 */
function hex24(b: ArrayLike<number>): string {
  return String.fromCharCode(
    hi(b, 0), lo(b, 0), hi(b, 1), lo(b, 1), hi(b, 2), lo(b, 2), hi(b, 3), lo(b, 3), hi(b, 4), lo(b, 4), hi(b, 5), lo(b, 5),
    hi(b, 6), lo(b, 6), hi(b, 7), lo(b, 7), hi(b, 8), lo(b, 8), hi(b, 9), lo(b, 9), hi(b, 10), lo(b, 10), hi(b, 11), lo(b, 11),
  );
}

/** Canonical UUID text of 16 bytes (8-4-4-4-12, lowercase), one flat string from character codes. */
function uuidText(b: ArrayLike<number>): string {
  return String.fromCharCode(
    hi(b, 0), lo(b, 0), hi(b, 1), lo(b, 1), hi(b, 2), lo(b, 2), hi(b, 3), lo(b, 3), 0x2d,
    hi(b, 4), lo(b, 4), hi(b, 5), lo(b, 5), 0x2d,
    hi(b, 6), lo(b, 6), hi(b, 7), lo(b, 7), 0x2d,
    hi(b, 8), lo(b, 8), hi(b, 9), lo(b, 9), 0x2d,
    hi(b, 10), lo(b, 10), hi(b, 11), lo(b, 11), hi(b, 12), lo(b, 12), hi(b, 13), lo(b, 13), hi(b, 14), lo(b, 14), hi(b, 15), lo(b, 15),
  );
}

/** The lowercase 24-hex text of an ObjectId instance (from its bytes). */
export function objectIdHex(oid: unknown): string {
  return hex24(oidBytes(oid));
}

const uuidBytes = new Uint8Array(16);
const oidOut = new Uint8Array(12);

function nibble(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c < 128 ? (NIBBLE[c] as number) : -1;
}

/** Parses `n` bytes of hex from s at offset into out; false when a character is not hex. */
function hexInto(s: string, offset: number, n: number, out: Uint8Array, outOffset: number): boolean {
  for (let k = 0; k < n; k++) {
    const hi = nibble(s, offset + 2 * k);
    const lo = nibble(s, offset + 2 * k + 1);
    if (hi < 0 || lo < 0) return false;
    out[outOffset + k] = (hi << 4) | lo;
  }
  return true;
}

/** True for a 24-character hexadecimal string (any case). */
export function isObjectIdHex(s: string): boolean {
  if (s.length !== 24) return false;
  for (let i = 0; i < 24; i++) if (nibble(s, i) < 0) return false;
  return true;
}

function oidBytes(oid: unknown): Uint8Array {
  if (typeof oid === 'string') {
    if (oid.length !== 24 || !hexInto(oid, 0, 12, scratch, 0)) {
      throw new TypeError(`not an ObjectId hex string: ${JSON.stringify(oid.slice(0, 40))}`);
    }
    return scratch;
  }
  if (oid instanceof Uint8Array) {
    if (oid.length !== 12) throw new TypeError(`an ObjectId has 12 bytes, got ${oid.length}`);
    return oid;
  }
  const t = bsonTypeOf(oid);
  if (t === 'ObjectId' || t === 'ObjectID') {
    const id = (oid as { id?: unknown }).id;
    if (id instanceof Uint8Array && id.length === 12) return id;
    return oidBytes((oid as { toHexString(): string }).toHexString());
  }
  throw new TypeError('not an ObjectId');
}

/** ObjectId (instance, 24-hex string or 12 bytes) → its version-8 UUID, lowercase canonical text. */
export function objectIdToUuid(oid: { toHexString(): string } | string | Uint8Array): string {
  const b = oidBytes(oid);
  const secs = (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0;
  const ms = secs * 1000;
  const hi = Math.floor(ms / 0x1_0000_0000); // < 1000: 16 bits
  const lo = ms - hi * 0x1_0000_0000;
  const b4 = b[4] as number;
  const u = uuidBytes;
  u[0] = hi >>> 8;
  u[1] = hi & 0xff;
  u[2] = lo >>> 24;
  u[3] = (lo >>> 16) & 0xff;
  u[4] = (lo >>> 8) & 0xff;
  u[5] = lo & 0xff;
  u[6] = 0x80 | (b4 >>> 4);
  u[7] = (b4 & 0x0f) << 4;
  u[8] = 0x80;
  u[9] = b[5] as number;
  for (let i = 6; i < 12; i++) u[i + 4] = b[i] as number;
  return uuidText(u);
}

/** Parses canonical 8-4-4-4-12 uuid text (any case) into 16 bytes, or false. */
function uuidInto(uuid: string, out: Uint8Array): boolean {
  if (uuid.length !== 36) return false;
  if (uuid[8] !== '-' || uuid[13] !== '-' || uuid[18] !== '-' || uuid[23] !== '-') return false;
  return (
    hexInto(uuid, 0, 4, out, 0) &&
    hexInto(uuid, 9, 2, out, 4) &&
    hexInto(uuid, 14, 2, out, 6) &&
    hexInto(uuid, 19, 2, out, 8) &&
    hexInto(uuid, 24, 6, out, 10)
  );
}

/** The exact inverse of objectIdToUuid (24 lowercase hex), or null for any other uuid. */
export function uuidToObjectId(uuid: string): string | null {
  const u = scratch;
  if (!uuidInto(uuid, u)) return null;
  const u6 = u[6] as number;
  const u7 = u[7] as number;
  if (u6 >>> 4 !== 8 || (u7 & 0x0f) !== 0 || u[8] !== 0x80) return null;
  const ms = ((u[0] as number) * 256 + (u[1] as number)) * 0x1_0000_0000 + ((((u[2] as number) << 24) | ((u[3] as number) << 16) | ((u[4] as number) << 8) | (u[5] as number)) >>> 0);
  if (ms % 1000 !== 0) return null;
  const secs = ms / 1000;
  if (secs > 0xffff_ffff) return null;
  const o = oidOut;
  o[0] = secs >>> 24;
  o[1] = (secs >>> 16) & 0xff;
  o[2] = (secs >>> 8) & 0xff;
  o[3] = secs & 0xff;
  o[4] = ((u6 & 0x0f) << 4) | (u7 >>> 4);
  for (let i = 9; i < 16; i++) o[i - 4] = u[i] as number;
  return hex24(o);
}

const NAMESPACE_BYTES = Buffer.from(PROJECT_NAMESPACE_UUID.replaceAll('-', ''), 'hex');

/** The namespace followed by a name, in a buffer reused from id to id (grown for a long name). */
let nameInput = Buffer.alloc(256);
NAMESPACE_BYTES.copy(nameInput, 0);
const nameDigest = new Uint8Array(20);

/** UUIDv5 (SHA-1) of the project namespace and `namespace + '\u0000' + key` (UTF-8). */
export function nameUuid(namespace: string, key: string): string {
  // A child id is made per child row: no allocation but the text, and SHA-1 in JavaScript (sha1.ts).
  const name = `${namespace}\u0000${key}`;
  const room = NAMESPACE_BYTES.length + name.length * 3;
  if (nameInput.length < room) {
    nameInput = Buffer.alloc(room);
    NAMESPACE_BYTES.copy(nameInput, 0);
  }
  const length = NAMESPACE_BYTES.length + nameInput.write(name, NAMESPACE_BYTES.length, 'utf8');
  const h = nameDigest;
  sha1(nameInput, length, h);
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  return uuidText(h);
}

/**
 * Canonical, type-tagged, stable text of any `_id` value:
 * - ObjectId → `oid:<24 lowercase hex>`; string → `str:<s>` (an ill-formed UTF-16 string,
 *   which UTF-8 could not encode losslessly, → `utf16:<hex of code units>`)
 * - every number that is mathematically an integer → `int:<digits>`, whatever its BSON type
 *   (Int32, Int64/Long, bigint, integral Double, integral Decimal128; -0 → int:0). MongoDB's
 *   unique _id index treats 12, NumberLong(12), 12.0 and Decimal128("12.0") as the same key,
 *   and the driver's promoteLongs/promoteValues/useBigInt64 options change the JS type of the
 *   same stored value: tagging by JS type would make the UUID depend on driver options.
 * - other doubles → `double:<String(n)>` (NaN, Infinity, -Infinity included);
 *   other Decimal128 → `decimal:<plain normalized decimal>` (or decimal:NaN…)
 * - boolean → `bool:true|false`; null → `null:`; Date → `date:<epoch ms>`
 * - Binary (and Uint8Array) → `bin:<subtype>:<base64>`; Timestamp → `ts:<64-bit value>`;
 *   MinKey/MaxKey → `minkey:`/`maxkey:`
 * - embedded document → `obj:{"k":<key>,…}` in key order (MongoDB compares them in order);
 *   array → `arr:[<key>,…]`; anything else → `ejson:<canonical Extended JSON>`.
 */
export function sourceIdKey(id: unknown): string {
  switch (typeof id) {
    case 'string':
      return isWellFormed(id) ? `str:${id}` : `utf16:${utf16Hex(id)}`;
    case 'number':
      return numberKey(id);
    case 'bigint':
      return `int:${id.toString()}`;
    case 'boolean':
      return `bool:${String(id)}`;
    case 'undefined':
      return 'undefined:';
    default:
      break;
  }
  if (id === null) return 'null:';
  const t = bsonTypeOf(id);
  switch (t) {
    case 'ObjectId':
    case 'ObjectID':
      return `oid:${objectIdHex(id)}`;
    case 'Int32':
    case 'Double':
      return numberKey(Number((id as { value: number }).value));
    case 'Long':
      return `int:${String(id)}`;
    case 'Decimal128': {
      const text = String(id);
      const r = parseDecimalLiteral(text);
      if (typeof r !== 'object') return `decimal:${text}`;
      const plain = formatDecimal(r.parts);
      return r.parts.frac === '' ? `int:${plain}` : `decimal:${plain}`;
    }
    case 'Binary': {
      const bin = id as { sub_type: number; toString(enc: 'base64'): string };
      return `bin:${bin.sub_type}:${bin.toString('base64')}`;
    }
    case 'Timestamp':
      return `ts:${String(id)}`;
    case 'MinKey':
      return 'minkey:';
    case 'MaxKey':
      return 'maxkey:';
    case undefined:
      break;
    default:
      return ejsonKey(id);
  }
  if (isDate(id)) return `date:${id.getTime()}`;
  if (id instanceof Uint8Array) return `bin:0:${Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('base64')}`;
  if (Array.isArray(id)) return `arr:[${id.map((v) => sourceIdKey(v)).join(',')}]`;
  const proto: unknown = Object.getPrototypeOf(id);
  if (proto === Object.prototype || proto === null) {
    const entries = Object.keys(id as object).map((k) => `${JSON.stringify(k)}:${sourceIdKey((id as Record<string, unknown>)[k])}`);
    return `obj:{${entries.join(',')}}`;
  }
  return ejsonKey(id);
}

function numberKey(n: number): string {
  if (Number.isInteger(n)) return `int:${BigInt(n).toString()}`;
  return `double:${String(n)}`;
}

function utf16Hex(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += s.charCodeAt(i).toString(16).padStart(4, '0');
  return out;
}

function ejsonKey(v: unknown): string {
  try {
    return `ejson:${EJSON.stringify(v as object, { relaxed: false })}`;
  } catch {
    // Pure: EJSON refuses a value of an unknown bson version or with cycles; String(v) still keys it deterministically.
    return `ejson:${String(v)}`;
  }
}

/** The row id of a source document: ObjectId → objectIdToUuid, any other `_id` → nameUuid(collection, sourceIdKey(id)). */
export function idToUuid(collection: string, id: unknown): string {
  const t = bsonTypeOf(id);
  if (t === 'ObjectId' || t === 'ObjectID') return objectIdToUuid(id as { toHexString(): string });
  return nameUuid(collection, sourceIdKey(id));
}

/** Deterministic id of a child row (order item, status-history entry) at `position` under its parent. */
export function childUuid(parentUuid: string, relation: string, position: number): string {
  if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`invalid child position: ${position}`);
  return nameUuid(`child:${relation}`, `${parentUuid.toLowerCase()}:${position}`);
}

export type ParsedReference = { kind: 'objectId'; hex: string } | { kind: 'other'; value: unknown };

/**
 * A reference field's target: ObjectId instances, 24-hex strings (any case; references
 * stored as hex strings), DBRefs (their `$id`) and Extended JSON `{ $oid: '<24 hex>' }` → objectId with lowercase
 * hex; null/undefined → null; anything else → other (resolve it with idToUuid).
 */
export function parseReference(value: unknown): ParsedReference | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    return isObjectIdHex(value) ? { kind: 'objectId', hex: value.toLowerCase() } : { kind: 'other', value };
  }
  const t = bsonTypeOf(value);
  if (t === 'ObjectId' || t === 'ObjectID') {
    return { kind: 'objectId', hex: objectIdHex(value) };
  }
  // A DBRef ({ $ref, $id }, what Spring Data and Morphia write): the referenced document is its
  // $id; the collection is the field's own target (a DBRef naming another one leaves an orphan).
  if (t === 'DBRef') return parseReference((value as { oid?: unknown }).oid);
  if (t === undefined && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const oid = (value as { $oid?: unknown }).$oid;
    if (keys.length === 1 && typeof oid === 'string' && isObjectIdHex(oid)) return { kind: 'objectId', hex: oid.toLowerCase() };
  }
  return { kind: 'other', value };
}
