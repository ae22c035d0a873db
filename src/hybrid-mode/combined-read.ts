/**
 * The combined read of the hybrid period: one list from MongoDB and PostgreSQL, where a
 * document already migrated is shown once (its PostgreSQL row), a MongoDB document carries
 * its deterministic UUID as `id` (the id its row will have), and pages come from a cursor
 * — at most `limit + overfetch` records are read from each side per round, never the whole
 * collection.
 *
 *   const page = await readCombined({ mongo: OrderModel, prisma: prisma.order, registry: prisma,
 *     where: { mongo: { workspaceId: oid }, prisma: { workspaceId: uuid } }, limit: 50, after: req.query.cursor });
 */
import { ObjectId } from 'mongodb';
import { idToUuid } from '../core/ids.js';
import { decodeCursor, encodeCursor, objectIdBoundHex, orderOf, sortValueForQuery, sortValueOf, type SortDirection, type SortKey } from './combined-order.js';
import { migratedIds, type RegistryConnection } from './registry.js';
import { mongoCursor, type MongoReadable, collectionNameOf } from './mongo-readable.js';

/**
 * A Prisma model delegate (`prisma.order`), or any object with a compatible `findMany`.
 * `where`/`orderBy` are `any` on purpose: each generated delegate has its own input types,
 * and only `any` lets every one of them (and a hand-written adapter) fit.
 */
export interface PrismaDelegateLike<Row> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  findMany(args: { where?: any; orderBy?: any; take?: number }): PromiseLike<Row[]>;
}

export interface CombinedReadOptions<MongoDoc extends object, Row extends object, Out = (MongoDoc & { id: string }) | Row> {
  /** The MongoDB side: a mongoose Model or a native driver Collection. */
  mongo: MongoReadable;
  /** The PostgreSQL side: a Prisma model delegate, e.g. `prisma.order`. */
  prisma: PrismaDelegateLike<Row>;
  /** Where the migration registry is read: the Prisma client itself, or a (read-only) `pg` Pool. */
  registry: RegistryConnection;
  /** MongoDB collection name as the migration knows it; default: the Model's / Collection's. */
  collection?: string;
  /** Filters per side: ids differ (ObjectId vs UUID), convert with `objectIdToUuid` / `uuidToObjectId`. */
  where?: { mongo?: Record<string, unknown>; prisma?: Record<string, unknown> };
  /** Prisma field to order by (default `createdAt`), never null in PostgreSQL. */
  sortBy?: string;
  /** MongoDB path of the same value, when named differently (default: `sortBy`). Documents without it come last (desc). */
  mongoSortBy?: string;
  /** Default `desc` (newest first). */
  direction?: SortDirection;
  /** Page size, 1..1000 (default 20). */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  after?: string | null;
  /** Prisma id field (default `id`). */
  idField?: string;
  /** Extra MongoDB documents read per round to make up for migrated ones dropped (default: limit, at least 10). */
  overfetch?: number;
  /** `parallel` (default): both sides at once. `strict`: registry checked before PostgreSQL is read (see README). */
  consistency?: 'parallel' | 'strict';
  /** How a MongoDB document is presented; default `{ ...doc, id }`. */
  presentMongo?: (doc: MongoDoc, id: string) => Out;
  /** How a PostgreSQL row is presented; default: as is. */
  presentPrisma?: (row: Row) => Out;
  /** Told what each page showed from each side: `instrumentHybrid`'s `observeCombinedRead` counts MongoDB's share with it. */
  observe?: (read: { collection: string; stats: CombinedPage<Out>['stats'] }) => void;
}

/** One page of a combined read. */
export interface CombinedPage<Out> {
  items: Out[];
  /** Pass as `after` to get the next page; null on the last page. */
  nextCursor: string | null;
  /** What this page read: documents from MongoDB shown, rows from PostgreSQL shown, migrated documents dropped. */
  stats: { mongodb: number; postgresql: number; droppedMigrated: number };
}

interface Candidate<Out> {
  key: SortKey;
  item: Out;
  side: 'mongodb' | 'postgresql';
}

const MAX_LIMIT = 1000;

/** Reads one page of the combined list. */
export async function readCombined<MongoDoc extends object, Row extends object, Out = (MongoDoc & { id: string }) | Row>(
  opts: CombinedReadOptions<MongoDoc, Row, Out>,
): Promise<CombinedPage<Out>> {
  const limit = opts.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new RangeError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  const sortBy = opts.sortBy ?? 'createdAt';
  const mongoSortBy = opts.mongoSortBy ?? sortBy;
  const idField = opts.idField ?? 'id';
  const direction = opts.direction ?? 'desc';
  const signature = `${sortBy}:${direction}`;
  const after = opts.after ? decodeCursor(opts.after, signature) : undefined;
  const order = orderOf(direction);
  const collection = opts.collection ?? collectionNameOf(opts.mongo);

  const readMongo = () => readMongoSide(opts, { collection, mongoSortBy, direction, after, limit, order });
  const readPg = async (): Promise<Candidate<Out>[]> => {
    const rows = await opts.prisma.findMany({
      where: combineWhere(opts.where?.prisma, after && prismaAfter(sortBy, idField, direction, after)),
      orderBy: [{ [sortBy]: direction }, { [idField]: direction }],
      take: limit + 1,
    });
    return rows.map((row) => {
      const r = row as Record<string, unknown>;
      return { key: { value: sortValueOf(r[sortBy]), id: String(r[idField]).toLowerCase() }, item: opts.presentPrisma ? opts.presentPrisma(row) : (row as unknown as Out), side: 'postgresql' as const };
    });
  };
  let mongo: { kept: Candidate<Out>[]; dropped: number };
  let pg: Candidate<Out>[];
  if (opts.consistency === 'strict') {
    mongo = await readMongo();
    pg = await readPg();
  } else {
    [mongo, pg] = await Promise.all([readMongo(), readPg()]);
  }
  // A document migrated between the registry lookup and the PostgreSQL read shows up on both sides: keep its row.
  const pgIds = new Set(pg.map((c) => c.key.id));
  const merged = [...mongo.kept.filter((c) => !pgIds.has(c.key.id)), ...pg]
    .filter((c) => !after || order(after, c.key) < 0)
    .sort((a, b) => order(a.key, b.key));
  const page = merged.slice(0, limit);
  const last = page[page.length - 1];
  const stats = { mongodb: page.filter((c) => c.side === 'mongodb').length, postgresql: page.filter((c) => c.side === 'postgresql').length, droppedMigrated: mongo.dropped };
  opts.observe?.({ collection, stats: { ...stats } });
  return {
    items: page.map((c) => c.item),
    nextCursor: merged.length > limit && last ? encodeCursor(last.key, signature) : null,
    stats,
  };
}

interface MongoSideParams {
  collection: string;
  mongoSortBy: string;
  direction: SortDirection;
  after: SortKey | undefined;
  limit: number;
  order: (a: SortKey, b: SortKey) => number;
}

/**
 * Reads MongoDB in the combined order, `limit + overfetch` documents per round, drops the
 * migrated ones, and stops as soon as `limit + 1` remain (one more than the page, to know
 * whether there is a next page).
 */
async function readMongoSide<MongoDoc extends object, Row extends object, Out>(
  opts: CombinedReadOptions<MongoDoc, Row, Out>,
  p: MongoSideParams,
): Promise<{ kept: Candidate<Out>[]; dropped: number }> {
  const round = p.limit + Math.max(10, opts.overfetch ?? p.limit);
  const dir = p.direction === 'desc' ? -1 : 1;
  const filter = combineMongo(opts.where?.mongo, p.after && mongoAfter(p.mongoSortBy, p.direction, p.after));
  const cursor = mongoCursor(opts.mongo, filter, { [p.mongoSortBy]: dir, _id: dir }, round);
  const kept: Candidate<Out>[] = [];
  let dropped = 0;
  let batch: { doc: MongoDoc; key: SortKey }[] = [];
  const flush = async () => {
    const migrated = await migratedIds(opts.registry, batch.map((b) => b.key.id));
    for (const { doc, key } of batch) {
      if (migrated.has(key.id)) dropped++;
      else kept.push({ key, item: opts.presentMongo ? opts.presentMongo(doc, key.id) : ({ ...doc, id: key.id } as unknown as Out), side: 'mongodb' });
    }
    batch = [];
  };
  try {
    for await (const raw of cursor) {
      const doc = raw as MongoDoc & { _id: unknown };
      batch.push({ doc, key: { value: sortValueOf(valueAt(doc, p.mongoSortBy)), id: idToUuid(p.collection, doc._id) } });
      if (batch.length >= round) {
        await flush();
        if (kept.length > p.limit) break;
      }
    }
    if (batch.length > 0) await flush();
  } finally {
    await Promise.resolve(cursor.close()).catch(() => undefined);
  }
  kept.sort((a, b) => p.order(a.key, b.key));
  return { kept: kept.slice(0, p.limit + 1), dropped };
}

function valueAt(doc: object, path: string): unknown {
  let v: unknown = doc;
  for (const part of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

function combineWhere(user: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const parts = [user, after].filter((p): p is Record<string, unknown> => p !== undefined && Object.keys(p).length > 0);
  return parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : { AND: parts };
}

function combineMongo(user: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined): Record<string, unknown> {
  const parts = [user, after].filter((p): p is Record<string, unknown> => p !== undefined && Object.keys(p).length > 0);
  return parts.length === 0 ? {} : parts.length === 1 ? (parts[0] as Record<string, unknown>) : { $and: parts };
}

/** Prisma filter: records after the cursor in the order (PostgreSQL's sort column is never null). */
function prismaAfter(sortBy: string, idField: string, direction: SortDirection, after: SortKey): Record<string, unknown> {
  const cmp = direction === 'desc' ? 'lt' : 'gt';
  // After a MongoDB document without a sort value (they come last in desc order), no row follows.
  if (after.value === null) return direction === 'desc' ? { [idField]: { in: [] } } : {};
  const v = sortValueForQuery(after.value);
  return { OR: [{ [sortBy]: { [cmp]: v } }, { [sortBy]: v, [idField]: { [cmp]: after.id } }] };
}

/** MongoDB filter: documents after the cursor; the id tie-break becomes an `_id` bound (ObjectId ids). */
function mongoAfter(field: string, direction: SortDirection, after: SortKey): Record<string, unknown> {
  const desc = direction === 'desc';
  // desc: uuid(_id) < id ⇔ _id < bound(id); asc: uuid(_id) > id ⇔ _id ≥ bound(id, strict).
  const hex = objectIdBoundHex(after.id, !desc);
  const idAfter = desc ? (hex === null ? {} : { _id: { $lt: new ObjectId(hex) } }) : hex === null ? { _id: { $in: [] } } : { _id: { $gte: new ObjectId(hex) } };
  if (after.value === null) {
    // null/missing sort first ascending, last descending.
    return desc ? { [field]: null, ...idAfter } : { $or: [{ [field]: { $ne: null } }, { [field]: null, ...idAfter }] };
  }
  const v = sortValueForQuery(after.value);
  const beyond: Record<string, unknown>[] = desc ? [{ [field]: { $lt: v } }, { [field]: null }] : [{ [field]: { $gt: v } }];
  return { $or: [...beyond, { [field]: v, ...idAfter }] };
}
