/**
 * JSON text for a jsonb column, exact.
 *
 * - Object keys are written in the JS object's own order (note: jsonb itself re-orders keys,
 *   and JS puts integer-like keys first when the driver builds the object).
 * - Int32/Double/number → JSON number, shortest round-trip form; -0 → 0 (coercion 'negative-zero').
 * - Long, bigint, Decimal128 → exact JSON number literal (jsonb numbers are arbitrary-precision
 *   numeric): Decimal128 as plain decimal digits, its scale kept ("1.50" → 1.50, as jsonb keeps
 *   it), an exponent form written out ("1.23E+5" → 123000).
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
import { EJSON } from '../bson.js';
import { type Conversion, bsonTypeOf, fail, isDate, loneSurrogateAt, ok } from './conversion.js';
import { formatDecimal, parseDecimalLiteral } from './decimal-text.js';
import { PLAIN_DECIMAL } from './text.js';

export interface JsonOptions {
  /** Deepest nesting of arrays/objects accepted (default 1000). */
  maxDepth?: number;
}

export const DEFAULT_JSON_MAX_DEPTH = 1000;

class JsonReject {
  constructor(readonly reason: string) {}
}

const SUSPECT = /[\u0000\uD800-\uDFFF]/;
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
  const writer = new JsonWriter(options.maxDepth ?? DEFAULT_JSON_MAX_DEPTH);
  try {
    writer.write(value, 0);
  } catch (e) {
    if (e instanceof JsonReject) return fail(e.reason);
    throw e;
  }
  return writer.result();
}

/**
 * One conversion's state: the output parts, the path to the value being written (for the
 * rejection message), and the coercions noted on the way. Each `write*` method appends the JSON
 * text of one kind of value; `reject` aborts the whole conversion with a `JsonReject`.
 */
class JsonWriter {
  private readonly parts: string[] = [];
  private readonly path: (string | number)[] = [];
  private readonly coercions: string[] = [];

  constructor(private readonly maxDepth: number) {}

  result(): Conversion<string> {
    const coercions = this.coercions;
    return ok(this.parts.join(''), coercions.length === 0 ? undefined : coercions.join(','));
  }

  write(v: unknown, depth: number): void {
    if (this.writePrimitive(v)) return;
    if (depth >= this.maxDepth) this.reject(`nesting deeper than ${this.maxDepth} levels`);
    if (Array.isArray(v)) this.writeArray(v, depth);
    else if (isDate(v)) this.writeDate(v);
    else {
      const t = bsonTypeOf(v);
      if (t !== undefined) this.writeBson(v as object, t, depth);
      else if (v instanceof Uint8Array) this.writeBinary(v);
      else if (v instanceof RegExp) this.writeRegExp(v);
      else this.writePlainObject(v as object, depth);
    }
  }

  private reject(what: string): never {
    const where = formatJsonPath(this.path);
    throw new JsonReject(where === '' ? what : `at ${where}: ${what}`);
  }

  private note(c: string): void {
    if (!this.coercions.includes(c)) this.coercions.push(c);
  }

  /** `s` as a JSON string literal; refuses what jsonb cannot hold (`what` names it in the message). */
  private quote(s: string, what: string): string {
    if (SUSPECT.test(s)) {
      const nul = s.indexOf('\u0000');
      if (nul >= 0) this.reject(`${what} contains NUL character at offset ${nul}, which jsonb cannot store`);
      const lone = loneSurrogateAt(s);
      if (lone >= 0) this.reject(`${what} contains a lone surrogate at offset ${lone} (invalid Unicode)`);
    }
    return JSON.stringify(s);
  }

  private writeNumber(n: number): void {
    if (!Number.isFinite(n)) this.reject(`${String(n)} cannot be stored in jsonb`);
    if (Object.is(n, -0)) {
      this.note('negative-zero');
      this.parts.push('0');
    } else this.parts.push(String(n));
  }

  /** Writes `v` if it is null or not an object (true), else leaves it to the caller (false). */
  private writePrimitive(v: unknown): boolean {
    switch (typeof v) {
      case 'string':
        this.parts.push(this.quote(v, 'string'));
        return true;
      case 'number':
        this.writeNumber(v);
        return true;
      case 'boolean':
        this.parts.push(v ? 'true' : 'false');
        return true;
      case 'bigint':
        this.parts.push(v.toString());
        return true;
      case 'undefined':
        this.note('undefined-as-null');
        this.parts.push('null');
        return true;
      case 'function':
      case 'symbol':
        return this.reject(`a ${typeof v} cannot be stored in jsonb`);
      default:
        if (v !== null) return false;
        this.parts.push('null');
        return true;
    }
  }

  private writeArray(v: readonly unknown[], depth: number): void {
    const { parts, path } = this;
    parts.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) parts.push(',');
      path.push(i);
      this.write(v[i], depth + 1);
      path.pop();
    }
    parts.push(']');
  }

  private writeDate(v: Date): void {
    if (Number.isNaN(v.getTime())) this.reject('Invalid Date cannot be stored in jsonb');
    this.note('json-date-as-string');
    this.parts.push(`"${v.toISOString()}"`);
  }

  private writeBinary(v: Uint8Array): void {
    this.note('json-binary-as-ejson');
    const base64 = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    this.parts.push(`{"$binary":{"base64":"${base64}","subType":"00"}}`);
  }

  private writeRegExp(v: RegExp): void {
    // Written by hand: EJSON refuses JS-only flags (g, y…); all flags are kept, sorted.
    this.note('json-regex-as-ejson');
    const options = [...v.flags].sort().join('');
    this.parts.push(`{"$regularExpression":{"pattern":${this.quote(v.source, 'regex')},"options":"${options}"}}`);
  }

  /** A plain object (prototype Object or null); any other class instance is refused. */
  private writePlainObject(v: object, depth: number): void {
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      this.reject(`a ${name} has no JSON form`);
    }
    const { parts, path } = this;
    parts.push('{');
    let first = true;
    for (const key of Object.keys(v)) {
      const child = (v as Record<string, unknown>)[key];
      if (child === undefined) {
        this.note('undefined-omitted');
        continue;
      }
      const k = this.quote(key, `key ${JSON.stringify(key)}`);
      parts.push(first ? k : `,${k}`, ':');
      first = false;
      path.push(key);
      this.write(child, depth + 1);
      path.pop();
    }
    parts.push('}');
  }

  private writeBson(v: object, t: string, depth: number): void {
    switch (t) {
      case 'ObjectId':
      case 'ObjectID':
        this.note('json-objectid-as-string');
        this.parts.push(`"${(v as { toHexString(): string }).toHexString()}"`);
        return;
      case 'Int32':
      case 'Double':
        this.writeNumber(Number((v as { value: number }).value));
        return;
      case 'Long':
        this.parts.push(String(v));
        return;
      case 'Decimal128':
        this.writeDecimal128(v);
        return;
      default:
        this.writeEjson(v, t, depth);
    }
  }

  /** Plain decimal digits, its scale kept ("1.50" stays 1.50: jsonb keeps it too); an exponent form as plain digits ("1.23E+5" → 123000). */
  private writeDecimal128(v: object): void {
    const text = String(v);
    const r = parseDecimalLiteral(text);
    if (typeof r !== 'object') this.reject(`Decimal128 ${text} cannot be stored in jsonb`);
    const p = r as Exclude<typeof r, string>;
    if (p.negativeZero) this.note('negative-zero');
    this.parts.push(PLAIN_DECIMAL.test(text) && !p.negativeZero ? text : formatDecimal(p.parts));
  }

  /** Any other BSON type: its canonical Extended JSON v2 object. */
  private writeEjson(v: object, t: string, depth: number): void {
    let plain: unknown;
    try {
      plain = EJSON.serialize(v, { relaxed: false });
    } catch (e) {
      this.reject(`a ${t} cannot be converted to Extended JSON (${(e as Error).message})`);
    }
    this.note(`json-${t.toLowerCase()}-as-ejson`);
    this.write(plain, depth);
  }
}
