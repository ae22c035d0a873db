/**
 * Splitting a collection into `_id` ranges read and written in parallel, each with its own
 * checkpoint (Adiom dsync / DMS range segmentation). Split points come from `$bucketAuto`
 * where the server has it (MongoDB), otherwise from sorted skips (FerretDB).
 */
import { availableParallelism } from 'node:os';
import type { Document } from 'bson';
import { EJSON } from '../core/bson.js';
import type { Db, Filter } from 'mongodb';
import { ExitCode, HybridMigrateError } from '../core/errors.js';
import { bsonTypeOf } from '../core/values/conversion.js';
import { compareIds, ID_CLASS_ORDER, idClass, idClassRank, sortDistinctIds, type IdClass } from './id-order.js';
import { approximateCount, EXACT_READ_OPTIONS } from './mongo-source.js';

export interface IdRange {
  /** Inclusive lower bound as canonical Extended JSON; null = from the start. */
  start: string | null;
  /** Exclusive upper bound; null = to the end. */
  end: string | null;
}

export const ejson = (value: unknown): string => EJSON.stringify({ v: value }, { relaxed: false });
export const unejson = (text: string): unknown => (EJSON.parse(text, { relaxed: false }) as { v: unknown }).v;

/** The most `_id` ranges a collection is ever split into. */
export const MAX_RANGES = 64;

/**
 * How many `_id` ranges of one collection the CLI works on in parallel by default: one per two
 * CPU cores, at least one. Every range shares this process's one JavaScript thread (decoding and
 * converting) and needs a PostgreSQL backend of its own (writing); one range already overlaps the
 * two, converting its next batch while the current one is written. So a second range only adds
 * speed where there are cores for a second backend besides the thread. On 2 cores, 1,000,000
 * fixture orders from a MongoDB-class source, alternated runs: one range 205 s and 145 s, peak
 * RSS 344 and 347 MB; two ranges 244 s and 162 s, 448 MB (every range holds its own batches).
 */
export function defaultRangeCount(cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(MAX_RANGES, Math.floor(cores / 2)));
}

/** Ranges covering the whole collection; one range when it is small or its ids are not all ObjectIds. */
export async function computeRanges(db: Db, collection: string, opts: { partitionSize: number; maxPartitions: number }): Promise<IdRange[]> {
  const coll = db.collection(collection);
  const count = await approximateCount(db, collection);
  const parts = Math.min(opts.maxPartitions, Math.ceil(count / opts.partitionSize));
  if (parts <= 1) return [{ start: null, end: null }];
  // FerretDB v1 does not push _id range filters down: every range would scan and sort the
  // whole collection (measured: a 1M-document collection in 2 ranges read nothing in 10
  // minutes). There, one range in _id order is the fast path.
  if (await isFerretDb(db)) return [{ start: null, end: null }];
  const [first] = await coll.find({}, { projection: { _id: 1 }, sort: { _id: 1 }, limit: 1, ...EXACT_READ_OPTIONS }).toArray();
  const [last] = await coll.find({}, { projection: { _id: 1 }, sort: { _id: -1 }, limit: 1, ...EXACT_READ_OPTIONS }).toArray();
  // A range of one type is one index range; split only collections whose ids are all ObjectIds
  // (rangeFilter is exact across types too, but a mixed collection is rare and not worth it).
  if (!isObjectId(first?._id) || !isObjectId(last?._id)) return [{ start: null, end: null }];
  const bounds = (await bucketBounds(db, collection, parts)) ?? (await skipBounds(db, collection, count, parts));
  return rangesFromBounds(bounds, collection);
}

/**
 * The ranges that split points in any order give: the points sorted in `_id` order (BSON's
 * order of types, then the value), each once, then checked (`checkRanges`). No server
 * promises the order of `$bucketAuto`'s buckets (DocumentDB returned them unsorted): taken as
 * they came, the ranges overlapped and a ranged migrate read documents twice.
 */
export function rangesFromBounds(bounds: readonly unknown[], collection?: string): IdRange[] {
  const ranges: IdRange[] = [];
  let start: string | null = null;
  for (const b of sortDistinctIds(bounds)) {
    const end = ejson(b);
    ranges.push({ start, end });
    start = end;
  }
  ranges.push({ start, end: null });
  return checkRanges(ranges, collection);
}

/** The ranges are not sorted, disjoint and covering: a bug of the tool, caught before anything is read. */
export class RangesInvalidError extends HybridMigrateError {
  constructor(message: string, collection?: string) {
    super('RANGES_INVALID', ExitCode.Failed, `internal error: the _id ranges${collection ? ` of collection "${collection}"` : ''} are not sorted, disjoint and covering: ${message}`, {
      entity: collection,
      hint: 'Nothing was read or written with these ranges. Please report this with the message; rerunning with --concurrency 1 does not avoid it.',
    });
  }
}

/**
 * Returns `ranges` if they split the whole `_id` space exactly: the first open below, the last
 * open above, each range's end the next one's start, and each start before its end in `_id`
 * order. Throws RangesInvalidError otherwise: overlapping ranges would read documents twice
 * (migrated and then rejected as duplicates), gaps would lose them.
 */
export function checkRanges(ranges: readonly IdRange[], collection?: string): IdRange[] {
  if (ranges.length === 0) throw new RangesInvalidError('no range at all', collection);
  const firstRange = ranges[0] as IdRange;
  const lastRange = ranges[ranges.length - 1] as IdRange;
  if (firstRange.start !== null) throw new RangesInvalidError(`the first range starts at ${firstRange.start} instead of the beginning`, collection);
  if (lastRange.end !== null) throw new RangesInvalidError(`the last range ends at ${lastRange.end} instead of the end`, collection);
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i] as IdRange;
    if (i > 0 && r.start === null) throw new RangesInvalidError(`range ${i} starts at the beginning, overlapping range 0`, collection);
    if (i < ranges.length - 1 && r.end === null) throw new RangesInvalidError(`range ${i} runs to the end, overlapping the ranges after it`, collection);
    if (i > 0 && r.start !== (ranges[i - 1] as IdRange).end) throw new RangesInvalidError(`range ${i} starts at ${String(r.start)} but range ${i - 1} ends at ${String((ranges[i - 1] as IdRange).end)}`, collection);
    if (r.start !== null && r.end !== null && compareIds(unejson(r.start), unejson(r.end)) >= 0) {
      throw new RangesInvalidError(`range ${i} starts at ${r.start}, not before its end ${r.end}`, collection);
    }
  }
  return [...ranges];
}

async function isFerretDb(db: Db): Promise<boolean> {
  try {
    const info = await db.admin().command({ buildInfo: 1 });
    return typeof info.ferretdbVersion === 'string';
  } catch {
    return false;
  }
}

function isObjectId(v: unknown): boolean {
  return bsonTypeOf(v) === 'ObjectId';
}

/** The buckets' lower bounds in `_id` order, without the first (the collection's smallest `_id`). */
async function bucketBounds(db: Db, collection: string, parts: number): Promise<unknown[] | undefined> {
  try {
    const buckets = await db
      .collection(collection)
      .aggregate<{ _id: { min: unknown; max: unknown } }>([{ $project: { _id: 1 } }, { $bucketAuto: { groupBy: '$_id', buckets: parts } }], { allowDiskUse: true, ...EXACT_READ_OPTIONS })
      .toArray();
    return bucketSplitPoints(buckets);
  } catch {
    return undefined; // FerretDB: no $bucketAuto
  }
}

/** Split points from `$bucketAuto`'s buckets, in whatever order they came: every lower bound but the smallest. */
export function bucketSplitPoints(buckets: readonly { _id: { min: unknown } }[]): unknown[] {
  return sortDistinctIds(buckets.map((b) => b._id.min)).slice(1);
}

async function skipBounds(db: Db, collection: string, count: number, parts: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let k = 1; k < parts; k++) {
    const [doc] = await db
      .collection(collection)
      .find({}, { projection: { _id: 1 }, sort: { _id: 1 }, skip: Math.floor((k * count) / parts), limit: 1, ...EXACT_READ_OPTIONS })
      .toArray();
    if (doc) out.push(doc._id);
  }
  return out;
}

/**
 * `$type` aliases per class that every server we read knows: MongoDB's full list, and FerretDB
 * v1's subset (no `symbol`, `decimal`, `minKey`, `maxKey`, `javascript`…: naming one fails the
 * query with "Unknown type name alias"). `number` covers every numeric type (Decimal128 too on
 * MongoDB); strings are matched by `$gte: ''` instead of a type, which on MongoDB also covers
 * symbols (the same comparison type). MinKey and MaxKey, which FerretDB cannot store and which
 * no alias both servers know can match, are left out: an `_id` of those types is not resumed past.
 */
const CLASS_TYPE_ALIAS: Partial<Record<IdClass, string>> = {
  null: 'null',
  number: 'number',
  object: 'object',
  array: 'array',
  binData: 'binData',
  objectId: 'objectId',
  bool: 'bool',
  date: 'date',
  timestamp: 'timestamp',
  regex: 'regex',
};

/** The `$type` aliases rangeFilter may send: every one is known to MongoDB and to FerretDB v1. */
export const RANGE_FILTER_TYPE_ALIASES: readonly string[] = Object.values(CLASS_TYPE_ALIAS) as string[];

/** Clauses matching every `_id` of the given classes. */
function wholeClasses(classes: readonly IdClass[]): Filter<Document>[] {
  const out: Filter<Document>[] = [];
  const aliases = classes.map((c) => CLASS_TYPE_ALIAS[c]).filter((a): a is string => a !== undefined);
  if (aliases.length > 0) out.push(onId({ $type: aliases }));
  if (classes.includes('string')) out.push(onId({ $gte: '' }));
  return out;
}

/** The classes strictly between two ranks. */
function classesBetween(lowRank: number, highRank: number): IdClass[] {
  return ID_CLASS_ORDER.filter((c) => idClassRank(c) > lowRank && idClassRank(c) < highRank);
}

const onId = (condition: Record<string, unknown>): Filter<Document> => ({ _id: condition }) as unknown as Filter<Document>;
const any = (clauses: Filter<Document>[]): Filter<Document> => (clauses.length === 1 ? (clauses[0] as Filter<Document>) : { $or: clauses });

/**
 * The filter for a range, resuming strictly after `lastKey` when given. A comparison such as
 * `$gt` only matches values of the bound's own type (query type bracketing), so bounds of
 * different types are joined by whole types in between: `[5, "k")` is numbers ≥ 5, or strings
 * < "k"; after the number 5 (a resume) it is numbers > 5 or any id of a later type. Only type
 * aliases every server knows are used (RANGE_FILTER_TYPE_ALIASES).
 */
export function rangeFilter(range: IdRange, lastKey: string | null): Filter<Document> {
  const low = lastKey !== null ? { value: unejson(lastKey), op: '$gt' } : range.start !== null ? { value: unejson(range.start), op: '$gte' } : null;
  const high = range.end !== null ? { value: unejson(range.end), op: '$lt' } : null;
  if (low === null && high === null) return {};
  const lowClass = low === null ? undefined : idClass(low.value);
  const highClass = high === null ? undefined : idClass(high.value);
  // Both bounds of one type: one comparison range (one index range).
  if (low !== null && high !== null && lowClass === highClass) return onId({ [low.op]: low.value, [high.op]: high.value });
  const lowRank = lowClass === undefined ? -1 : idClassRank(lowClass);
  const highRank = highClass === undefined ? ID_CLASS_ORDER.length : idClassRank(highClass);
  const clauses: Filter<Document>[] = [];
  if (low !== null) clauses.push(onId({ [low.op]: low.value }));
  clauses.push(...wholeClasses(classesBetween(lowRank, highRank)));
  if (high !== null) clauses.push(onId({ [high.op]: high.value }));
  return any(clauses);
}
