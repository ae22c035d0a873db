/**
 * JSON text for a jsonb column, exact.
 *
 * - Object keys are written in the JS object's own order (note: jsonb itself re-orders keys,
 *   and JS puts integer-like keys first when the driver builds the object).
 * - Int32/Double/number → JSON number, shortest round-trip form; -0 → 0 (coercion 'negative-zero').
 * - Long, bigint, Decimal128 → exact JSON number literal (jsonb numbers are arbitrary-precision
 *   numeric): Decimal128 as plain normalized decimal digits ("1.23E+5" → 123000, "1.50" → 1.5).
 * - Date → ISO-8601 string with ms ('json-date-as-string'); ObjectId → 24-hex string
 *   ('json-objectid-as-string').
 * - Binary (and Buffer/Uint8Array) and every other BSON type (Timestamp, RegExp, MinKey…) →
 *   its canonical Extended JSON v2 object, e.g. {"$binary":{"base64":"…","subType":"00"}}
 *   (coercion 'json-<type>-as-ejson'): lossless and recognisable, unlike a bare base64 string.
 * - undefined: omitted in objects, null in arrays (as JSON.stringify does).
 * - Rejected, with the path inside the value ('at .metrics.roas: NaN cannot be stored in
 *   jsonb'): NaN/±Infinity, NUL in strings or keys (jsonb rejects \u0000), lone surrogates,
 *   Invalid Date, functions, symbols, Map/Set and other class instances, nesting deeper than
 *   `maxDepth` (default 1000; MongoDB documents nest 100 levels at most).
 * Output is built in one parts array, joined once (linear time).
 */
import { EJSON } from 'bson';
import { type Conversion, bsonTypeOf, fail, isDate, ok } from './conversion.js';
import { formatDecimal, parseDecimalLiteral } from './decimal-text.js';

export interface JsonOptions {
  /** Deepest nesting of arrays/objects accepted (default 1000). */
  maxDepth?: number;
}

export const DEFAULT_JSON_MAX_DEPTH = 1000;

class JsonReject {
  constructor(readonly reason: string) {}
}

const SUSPECT = /[\u0000\uD800-\uDFFF]/;
const LONE_SURROGATE = /\p{Cs}/u;
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function formatJsonPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT.test(seg)) out += `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function toJson(value: unknown, options: JsonOptions = {}): Conversion<string> {
  const maxDepth = options.maxDepth ?? DEFAULT_JSON_MAX_DEPTH;
  const parts: string[] = [];
  const path: (string | number)[] = [];
  const coercions: string[] = [];

  const reject = (what: string): never => {
    const where = formatJsonPath(path);
    throw new JsonReject(where === '' ? what : `at ${where}: ${what}`);
  };
  const note = (c: string): void => {
    if (!coercions.includes(c)) coercions.push(c);
  };
  const str = (s: string, what: string): string => {
    if (SUSPECT.test(s)) {
      const nul = s.indexOf('\u0000');
      if (nul >= 0) reject(`${what} contains NUL character at offset ${nul}, which jsonb cannot store`);
      const lone = LONE_SURROGATE.exec(s);
      if (lone !== null) reject(`${what} contains a lone surrogate at offset ${lone.index} (invalid Unicode)`);
    }
    return JSON.stringify(s);
  };
  const num = (n: number): void => {
    if (!Number.isFinite(n)) reject(`${String(n)} cannot be stored in jsonb`);
    if (Object.is(n, -0)) {
      note('negative-zero');
      parts.push('0');
    } else parts.push(String(n));
  };

  const write = (v: unknown, depth: number): void => {
    switch (typeof v) {
      case 'string':
        parts.push(str(v, 'string'));
        return;
      case 'number':
        num(v);
        return;
      case 'boolean':
        parts.push(v ? 'true' : 'false');
        return;
      case 'bigint':
        parts.push(v.toString());
        return;
      case 'undefined':
        note('undefined-as-null');
        parts.push('null');
        return;
      case 'function':
      case 'symbol':
        reject(`a ${typeof v} cannot be stored in jsonb`);
        return;
      default:
        break;
    }
    if (v === null) {
      parts.push('null');
      return;
    }
    if (depth >= maxDepth) reject(`nesting deeper than ${maxDepth} levels`);
    if (Array.isArray(v)) {
      parts.push('[');
      for (let i = 0; i < v.length; i++) {
        if (i > 0) parts.push(',');
        path.push(i);
        write(v[i], depth + 1);
        path.pop();
      }
      parts.push(']');
      return;
    }
    if (isDate(v)) {
      const ms = v.getTime();
      if (Number.isNaN(ms)) reject('Invalid Date cannot be stored in jsonb');
      note('json-date-as-string');
      parts.push(`"${v.toISOString()}"`);
      return;
    }
    const t = bsonTypeOf(v);
    if (t !== undefined) {
      writeBson(v as object, t, depth);
      return;
    }
    if (v instanceof Uint8Array) {
      note('json-binary-as-ejson');
      parts.push(`{"$binary":{"base64":"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}","subType":"00"}}`);
      return;
    }
    if (v instanceof RegExp) {
      // Written by hand: EJSON refuses JS-only flags (g, y…); all flags are kept, sorted.
      note('json-regex-as-ejson');
      const options = [...v.flags].sort().join('');
      parts.push(`{"$regularExpression":{"pattern":${str(v.source, 'regex')},"options":"${options}"}}`);
      return;
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      reject(`a ${name} has no JSON form`);
    }
    parts.push('{');
    let first = true;
    for (const key of Object.keys(v as object)) {
      const child = (v as Record<string, unknown>)[key];
      if (child === undefined) {
        note('undefined-omitted');
        continue;
      }
      const k = str(key, `key ${JSON.stringify(key)}`);
      parts.push(first ? k : `,${k}`, ':');
      first = false;
      path.push(key);
      write(child, depth + 1);
      path.pop();
    }
    parts.push('}');
  };

  const writeBson = (v: object, t: string, depth: number): void => {
    switch (t) {
      case 'ObjectId':
      case 'ObjectID':
        note('json-objectid-as-string');
        parts.push(`"${(v as { toHexString(): string }).toHexString()}"`);
        return;
      case 'Int32':
      case 'Double':
        num(Number((v as { value: number }).value));
        return;
      case 'Long':
        parts.push(String(v));
        return;
      case 'Decimal128': {
        const text = String(v);
        const r = parseDecimalLiteral(text);
        if (typeof r !== 'object') reject(`Decimal128 ${text} cannot be stored in jsonb`);
        const p = r as Exclude<typeof r, string>;
        if (p.negativeZero) note('negative-zero');
        parts.push(formatDecimal(p.parts));
        return;
      }
      default:
        writeEjson(v, t, depth);
    }
  };

  const writeEjson = (v: object, t: string, depth: number): void => {
    let plain: unknown;
    try {
      plain = EJSON.serialize(v, { relaxed: false });
    } catch (e) {
      reject(`a ${t} cannot be converted to Extended JSON (${(e as Error).message})`);
    }
    note(`json-${t.toLowerCase()}-as-ejson`);
    write(plain, depth);
  };

  try {
    write(value, 0);
  } catch (e) {
    if (e instanceof JsonReject) return fail(e.reason);
    throw e;
  }
  return ok(parts.join(''), coercions.length === 0 ? undefined : coercions.join(','));
}

