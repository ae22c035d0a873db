/**
 * Lossless text of a source document, and the hash used for row hashes. Pure, no I/O.
 */
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { EJSON } from './bson.js';

/** Key of the marker object written when a value cannot be expressed as Extended JSON. */
export const UNSERIALIZABLE_MARKER = '$hybridMigrateUnserializable';

/**
 * Canonical Extended JSON v2 (`EJSON.stringify(doc, { relaxed: false })`): every BSON type
 * keeps its type (Int32/Int64/Double/Decimal128, NaN and -0 as {"$numberDouble":…}, dates as
 * {"$date":{"$numberLong":…}}). The text is plain JSON, with NUL and lone surrogates as
 * \u escapes: store it in a text column (jsonb would refuse those escapes).
 *
 * Never throws: when EJSON cannot serialize the value (cycles, nesting deeper than the stack,
 * a bson value of another major version), returns
 * `{"$hybridMigrateUnserializable":{"error":"…","inspect":"…"}}` with util.inspect's text.
 */
export function canonicalExtendedJson(doc: unknown): string {
  try {
    return EJSON.stringify(doc as object, { relaxed: false });
  } catch (e) {
    let shown: string;
    try {
      shown = inspect(doc, { depth: 20, maxArrayLength: 1000, maxStringLength: 100_000, breakLength: Infinity });
    } catch {
      // Pure: only the marker's inspect text is lost; EJSON's error, the one that matters, is kept below.
      shown = '<uninspectable>';
    }
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return JSON.stringify({ [UNSERIALIZABLE_MARKER]: { error, inspect: shown } });
  }
}

/**
 * SHA-256, lowercase hex (64 chars), of the UTF-8 text (or of the bytes). Chosen over a faster
 * non-cryptographic 128-bit hash: node:crypto's SHA-256 is native (hardware-accelerated,
 * typically >1 GB/s), stable across versions, available in PostgreSQL (sha256()) for
 * server-side comparison, and needs no dependency; a JS xxhash/murmur would be slower here.
 */
export function canonicalHash(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}
