/**
 * The type histogram of a collection: for every field path (arrays as `items[].unitPrice`),
 * how many values of each BSON type were seen, how often the field was missing or null, the
 * longest array and the longest string. Pure, no I/O: fed one document at a time, its size is
 * bounded by the number of distinct paths (capped; what does not fit is counted, not kept).
 *
 * Documents should be decoded with `HISTOGRAM_READ_OPTIONS` (no promotion), so an Int32 and a
 * Double stay distinguishable. Documents decoded with the migration's options (numbers
 * promoted) still classify: a JS number is then the pseudo-type `number` (Int32 or Double).
 */
import { bsonTypeOf, isDate } from './values/conversion.js';

/** BSON decoding that keeps every type visible (Int32 vs Double vs Int64, Binary, RegExp). */
export const HISTOGRAM_READ_OPTIONS = { promoteValues: false, promoteLongs: false, useBigInt64: false, promoteBuffers: false, bsonRegExp: true } as const;

/**
 * MongoDB's `$type` names, plus `number`: a JS number from a promoting decoder, which no longer
 * says whether it was stored as Int32 or Double.
 */
export type BsonTypeName =
  | 'double'
  | 'string'
  | 'object'
  | 'array'
  | 'binData'
  | 'undefined'
  | 'objectId'
  | 'bool'
  | 'date'
  | 'null'
  | 'regex'
  | 'dbPointer'
  | 'dbRef'
  | 'javascript'
  | 'javascriptWithScope'
  | 'symbol'
  | 'int'
  | 'timestamp'
  | 'long'
  | 'decimal'
  | 'minKey'
  | 'maxKey'
  | 'number';

const WRAPPERS: Readonly<Record<string, BsonTypeName>> = {
  Double: 'double',
  Int32: 'int',
  Long: 'long',
  Decimal128: 'decimal',
  ObjectId: 'objectId',
  ObjectID: 'objectId',
  Binary: 'binData',
  Timestamp: 'timestamp',
  BSONRegExp: 'regex',
  BSONSymbol: 'symbol',
  Symbol: 'symbol',
  MinKey: 'minKey',
  MaxKey: 'maxKey',
  DBRef: 'dbRef',
  DBPointer: 'dbPointer',
};

/** The BSON type of a decoded value. */
export function bsonTypeName(value: unknown): BsonTypeName {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'bigint':
      return 'long';
    case 'boolean':
      return 'bool';
    case 'undefined':
      return 'undefined';
    default:
      break;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (isDate(value)) return 'date';
  const tag = bsonTypeOf(value);
  if (tag !== undefined) {
    if (tag === 'Code') return (value as { scope?: unknown }).scope ? 'javascriptWithScope' : 'javascript';
    return WRAPPERS[tag] ?? 'object';
  }
  if (value instanceof Uint8Array) return 'binData';
  if (value instanceof RegExp) return 'regex';
  return 'object';
}

/** NaN, ±Infinity and -0 of a double (or promoted number), which columns treat specially; else undefined. */
export function specialDouble(value: unknown): string | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (bsonTypeOf(value) === 'Double') n = (value as { value: number }).value;
  else return undefined;
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (Object.is(n, -0)) return '-0';
  return undefined;
}

/** Length in Unicode code points (what PostgreSQL's varchar(n) counts). */
export function codePoints(s: string): number {
  let pairs = 0;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        pairs++;
        i++;
      }
    }
  }
  return s.length - pairs;
}

/**
 * Visits every value of a document with its path (`a.b`, `items[]`, `items[].x`, `a[][]`),
 * depth first; `onObject` is told of every object/array container so callers can derive
 * "missing" counts. Stops descending below `maxDepth`.
 */
export function walkDocument(doc: Readonly<Record<string, unknown>>, visit: (path: string, parent: string, value: unknown, type: BsonTypeName) => void, maxDepth = 32): void {
  walkObject(doc, '', visit, 0, maxDepth);
}

function walkObject(obj: Readonly<Record<string, unknown>>, prefix: string, visit: (path: string, parent: string, value: unknown, type: BsonTypeName) => void, depth: number, maxDepth: number): void {
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    const path = prefix === '' ? key : `${prefix}.${key}`;
    walkValue(value, path, prefix, visit, depth, maxDepth);
  }
}

function walkValue(value: unknown, path: string, parent: string, visit: (path: string, parent: string, value: unknown, type: BsonTypeName) => void, depth: number, maxDepth: number): void {
  const type = bsonTypeName(value);
  visit(path, parent, value, type);
  if (depth >= maxDepth) return;
  if (type === 'object') walkObject(value as Record<string, unknown>, path, visit, depth + 1, maxDepth);
  else if (type === 'array') {
    const element = `${path}[]`;
    for (const item of value as unknown[]) walkValue(item, element, path, visit, depth + 1, maxDepth);
  }
}

/** What the histogram says about one path. */
export interface PathHistogram {
  /** Occurrences per BSON type (`null` included). */
  types: Record<string, number>;
  /** Values seen at this path (all types, null included). */
  count: number;
  /** Containers (documents, objects or array elements holding the path's parent) without the field. */
  missing: number;
  nullRate: number;
  missingRate: number;
  maxArrayLength?: number;
  /** In code points. */
  maxStringLength?: number;
  /** NaN / Infinity / -Infinity / -0 doubles. */
  specialDoubles?: Record<string, number>;
}

/** A collection's histogram, as stored in the plan file. */
export interface HistogramJson {
  documents: number;
  paths: Record<string, PathHistogram>;
  /** Most distinct paths kept; beyond it occurrences are counted in `overflow`. */
  pathCap: number;
  overflow: { occurrences: number; examples: string[] };
}

interface MutablePath {
  parent: string;
  types: Map<BsonTypeName, number>;
  count: number;
  maxArrayLength: number;
  maxStringLength: number;
  specials: Map<string, number> | undefined;
}

/** The default cap on distinct paths per collection (free-form objects keyed by data can explode). */
export const DEFAULT_PATH_CAP = 2000;

export class TypeHistogram {
  private readonly paths = new Map<string, MutablePath>();
  private documents = 0;
  private overflowOccurrences = 0;
  private readonly overflowExamples: string[] = [];

  constructor(private readonly pathCap = DEFAULT_PATH_CAP) {}

  /** Adds one document. */
  observe(doc: Readonly<Record<string, unknown>>): void {
    this.documents++;
    walkDocument(doc, (path, parent, value, type) => this.add(path, parent, value, type));
  }

  private add(path: string, parent: string, value: unknown, type: BsonTypeName): void {
    let p = this.paths.get(path);
    if (!p) {
      if (this.paths.size >= this.pathCap) {
        this.overflowOccurrences++;
        if (this.overflowExamples.length < 20 && !this.overflowExamples.includes(path)) this.overflowExamples.push(path);
        return;
      }
      p = { parent, types: new Map(), count: 0, maxArrayLength: -1, maxStringLength: -1, specials: undefined };
      this.paths.set(path, p);
    }
    p.count++;
    p.types.set(type, (p.types.get(type) ?? 0) + 1);
    if (type === 'string') p.maxStringLength = Math.max(p.maxStringLength, codePoints(value as string));
    else if (type === 'array') p.maxArrayLength = Math.max(p.maxArrayLength, (value as unknown[]).length);
    else if (type === 'double' || type === 'number') {
      const special = specialDouble(value);
      if (special) {
        p.specials ??= new Map();
        p.specials.set(special, (p.specials.get(special) ?? 0) + 1);
      }
    }
  }

  get documentCount(): number {
    return this.documents;
  }

  toJSON(): HistogramJson {
    const paths: Record<string, PathHistogram> = {};
    const sorted = [...this.paths.keys()].sort();
    for (const path of sorted) {
      const p = this.paths.get(path) as MutablePath;
      // Elements of an array are never "missing"; a field is missing from the containers (documents or objects) of its parent.
      const containers = path.endsWith('[]') ? p.count : p.parent === '' ? this.documents : (this.paths.get(p.parent)?.types.get('object') ?? p.count);
      const missing = Math.max(0, containers - p.count);
      const nulls = p.types.get('null') ?? 0;
      const entry: PathHistogram = {
        types: Object.fromEntries([...p.types.entries()].sort((a, b) => b[1] - a[1])),
        count: p.count,
        missing,
        nullRate: containers > 0 ? round(nulls / containers) : 0,
        missingRate: containers > 0 ? round(missing / containers) : 0,
      };
      if (p.maxArrayLength >= 0) entry.maxArrayLength = p.maxArrayLength;
      if (p.maxStringLength >= 0) entry.maxStringLength = p.maxStringLength;
      if (p.specials) entry.specialDoubles = Object.fromEntries(p.specials);
      paths[path] = entry;
    }
    return { documents: this.documents, paths, pathCap: this.pathCap, overflow: { occurrences: this.overflowOccurrences, examples: [...this.overflowExamples] } };
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
