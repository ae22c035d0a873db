/**
 * Reading MongoDB through a mongoose connection (the driver underneath, with the options
 * that keep every BSON type exact: Int64 as bigint, Decimal128 as Decimal128, no
 * promotion of binary). Documents are read in `_id` order, in batches, so memory stays
 * bounded whatever the collection size.
 */
import mongoose from 'mongoose';
import type { CommandFailedEvent, CommandSucceededEvent, Db, Document, Filter, MongoClient } from 'mongodb';
import { BSON } from 'mongodb';
import { mongoUriTimeouts } from '../config/connection-urls.js';
import { ConfigError, ConnectionError } from '../core/errors.js';
import { MetricsRecorder } from '../core/metrics.js';
import { redactText, redactUri, passwordsOf } from '../core/redact.js';

/** Options that make the driver hand us BSON values without loss. */
export const EXACT_READ_OPTIONS = { useBigInt64: true, promoteBuffers: false, promoteValues: true, bsonRegExp: true } as const;

export interface MongoSource {
  db: Db;
  /** What `status` shows: server kind and version. */
  serverVersion: string;
  /** FerretDB serves a subset of MongoDB (no $bucketAuto, $sample, Decimal128…). */
  isFerretDb: boolean;
  /** Requests, durations, errors and documents of every command sent to MongoDB (driver command monitoring). */
  metrics: MetricsRecorder;
  close(): Promise<void>;
}

export interface ConnectMongoOptions {
  uri: string;
  /** Database name; default: the one in the URI. */
  dbName?: string;
  /** Fail fast: an unreachable server is reported within this time (unless the URI sets serverSelectionTimeoutMS / connectTimeoutMS itself). */
  timeoutMs?: number;
  appName?: string;
  /** Where command metrics go; default: a new recorder, exposed as `MongoSource.metrics`. */
  metrics?: MetricsRecorder;
}

export async function connectMongo(opts: ConnectMongoOptions): Promise<MongoSource> {
  const timeoutMs = opts.timeoutMs ?? 8000;
  const secrets = passwordsOf([opts.uri]);
  // The URI's own timeouts win: options given here would override them.
  const inUri = mongoUriTimeouts(opts.uri);
  let connection: mongoose.Connection;
  try {
    connection = mongoose.createConnection(opts.uri, {
      ...(inUri.serverSelectionTimeoutMS ? {} : { serverSelectionTimeoutMS: timeoutMs }),
      ...(inUri.connectTimeoutMS ? {} : { connectTimeoutMS: timeoutMs }),
      appName: opts.appName ?? 'hybrid-migrate',
      autoIndex: false,
      autoCreate: false,
      // Command monitoring feeds the metrics (requests, durations, errors per database).
      monitorCommands: true,
      ...(opts.dbName ? { dbName: opts.dbName } : {}),
    });
    await connection.asPromise();
  } catch (cause) {
    throw new ConnectionError('MongoDB', `MongoDB (${redactUri(opts.uri)}): ${oneLine(redactText(errorMessage(cause), secrets))}`, {
      hint: 'Check MONGO_URI: host, port, credentials, and that the server is running.',
    });
  }
  const metrics = opts.metrics ?? new MetricsRecorder();
  monitorCommands(connection.getClient(), metrics);
  const db = connection.db;
  if (!db) throw new ConnectionError('MongoDB', `MongoDB (${redactUri(opts.uri)}): connected without a database`);
  let serverVersion = 'unknown';
  let isFerretDb = false;
  try {
    const info = await db.admin().command({ buildInfo: 1 });
    isFerretDb = typeof info.ferretdbVersion === 'string';
    serverVersion = isFerretDb ? `FerretDB ${String(info.ferretdbVersion)} (MongoDB ${String(info.version)} wire)` : `MongoDB ${String(info.version)}`;
  } catch (cause) {
    await connection.close().catch(() => undefined);
    throw new ConnectionError('MongoDB', `MongoDB (${redactUri(opts.uri)}): ${oneLine(redactText(errorMessage(cause), secrets))}`, {
      hint: 'Check the credentials in MONGO_URI and that the user may run buildInfo.',
    });
  }
  return { db, serverVersion, isFerretDb, metrics, close: () => connection.close() };
}

/** Feeds every command's outcome to the recorder; a listener error must never reach the driver. */
export function monitorCommands(client: MongoClient, metrics: MetricsRecorder): void {
  client.on('commandSucceeded', (e: CommandSucceededEvent) => {
    try {
      metrics.record({ operation: e.commandName, durationMs: e.duration, ok: true, items: documentsIn(e.reply) });
    } catch {
      // metrics are best effort
    }
  });
  client.on('commandFailed', (e: CommandFailedEvent) => {
    try {
      metrics.record({ operation: e.commandName, durationMs: e.duration, ok: false });
    } catch {
      // metrics are best effort
    }
  });
}

/** Documents a reply carries (a cursor batch) or a write affected (`n`), without walking the documents. */
function documentsIn(reply: unknown): number | undefined {
  if (!reply || typeof reply !== 'object') return undefined;
  const r = reply as { cursor?: { firstBatch?: unknown; nextBatch?: unknown }; n?: unknown };
  const batch = r.cursor?.firstBatch ?? r.cursor?.nextBatch;
  if (Array.isArray(batch)) return batch.length;
  return typeof r.n === 'number' ? r.n : undefined;
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 400);
}

/** Raw BSON held per batch at most (a batch also ends at `batchSize` documents). */
export const DEFAULT_MAX_BATCH_BYTES = 8 * 1024 * 1024;

/** A batch of documents still as BSON: compact while it waits, decoded when it is worked on. */
export interface RawBatch {
  readonly count: number;
  readonly bytes: number;
  /** Decodes the documents with the options that keep every BSON type exact. */
  decode(): Document[];
  /**
   * Document i alone, decoded anew at each call: the pipeline decodes and converts a batch one
   * document at a time, so that decoded documents die young instead of living, all of them,
   * through the batch's write (a reject's record decodes its document again).
   */
  decodeAt(i: number): Document;
}

/**
 * Reads a collection in `_id` order as raw BSON, in batches of at most `batchSize` documents
 * and `maxBytes` bytes, so memory stays bounded whatever the documents' size: a batch of
 * 16 MB documents is as safe as a batch of 1 kB ones, and a batch read ahead costs only
 * its BSON, not its decoded objects.
 */
export async function* readRawBatches(
  db: Db,
  collection: string,
  filter: Filter<Document>,
  opts: { batchSize: number; maxBytes?: number; signal?: AbortSignal; projection?: Document },
): AsyncGenerator<RawBatch> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BATCH_BYTES;
  const cursor = db.collection(collection).find(filter, {
    sort: { _id: 1 },
    // A projection (ids only) makes documents small whatever the collection's average.
    batchSize: opts.projection ? opts.batchSize : await wireBatchSize(db, collection, opts.batchSize, maxBytes),
    raw: true,
    ...(opts.projection ? { projection: opts.projection } : {}),
  });
  try {
    let buffers: Uint8Array[] = [];
    let bytes = 0;
    // A raw document is a view of the whole server reply, and a suspended generator's frame
    // keeps what its registers last held: the cursor's own async iterator, or a second call
    // site of next(), kept the first reply alive for the rest of the run (heap snapshot at
    // 1,000,000 orders: the 16.8 MB reply of the fixture's 15 MB order, 50 s after its batch
    // was written). One call site, so each document replaces the one before.
    for (;;) {
      const raw = await cursor.next();
      if (raw === null) break;
      const buf = raw as unknown as Uint8Array;
      buffers.push(buf);
      bytes += buf.byteLength;
      if (buffers.length >= opts.batchSize || bytes >= maxBytes) {
        yield rawBatch(buffers, bytes);
        buffers = [];
        bytes = 0;
        if (opts.signal?.aborted) return;
      }
    }
    if (buffers.length > 0) yield rawBatch(buffers, bytes);
  } finally {
    await cursor.close().catch(() => undefined);
  }
}

/**
 * How many documents to ask the server for per reply: `batchSize`, fewer when the collection's
 * average document would make a reply larger than `maxBytes`. A real MongoDB ends a reply at
 * 16 MB, but FerretDB v1 sends `batchSize` documents whatever their size: 12 documents of
 * 15.5 MB came as one 186 MB reply, and each raw document, a slice of it, kept it all alive
 * (measured: 262 MB of ArrayBuffers held through the run, peak RSS 768 MB).
 */
export async function wireBatchSize(db: Db, collection: string, batchSize: number, maxBytes: number = DEFAULT_MAX_BATCH_BYTES): Promise<number> {
  try {
    const stats = await db.command({ collStats: collection });
    const avg = Number(stats.avgObjSize);
    if (Number.isFinite(avg) && avg > 0) return Math.max(1, Math.min(batchSize, Math.floor(maxBytes / avg)));
  } catch {
    // collStats refused (permissions, views): the requested size.
  }
  return batchSize;
}

/**
 * The collection's document count from the server's statistics (collStats), for progress
 * totals and range splitting. Not `estimatedDocumentCount`: the `count` command it sends scans
 * the whole collection on FerretDB v1 (measured: 5.3 s for 30,000 orders, against 0.14 s for
 * collStats, and migrate asked twice). Where collStats is refused (views, permissions), the
 * driver's estimate.
 */
export async function approximateCount(db: Db, collection: string): Promise<number> {
  try {
    const n = Number((await db.command({ collStats: collection })).count);
    if (Number.isSafeInteger(n) && n >= 0) return n;
  } catch {
    // refused: the estimate below
  }
  return db.collection(collection).estimatedDocumentCount();
}

function rawBatch(buffers: Uint8Array[], bytes: number): RawBatch {
  const decodeOne = (b: Uint8Array): Document => BSON.deserialize(b, EXACT_READ_OPTIONS);
  return {
    count: buffers.length,
    bytes,
    decode: () => buffers.map(decodeOne),
    decodeAt: (i) => decodeOne(buffers[i] as Uint8Array),
  };
}

/**
 * Yields what `source` yields, with the next item always requested while the consumer works on
 * the current one: the server prepares the next batch meanwhile. (migrate's partitions do the
 * same with raw batches.)
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  // The item read ahead may fail while the consumer is still on the current one (the server
  // gone, the cursor closed under it): the failure is the consumer's when it asks for the item,
  // not an unhandled rejection that ends the process (exit 1, a stack trace) meanwhile.
  const ahead = () => {
    const p = it.next();
    p.catch(() => undefined);
    return p;
  };
  let pending = ahead();
  try {
    for (;;) {
      const next = await pending;
      if (next.done) return;
      pending = ahead();
      yield next.value;
    }
  } finally {
    // An item read ahead and never used must not fail unobserved (its connection may be closed
    // under it when a write failed); then the source closes, after the item in flight.
    pending.catch(() => undefined);
    if (it.return) await it.return(undefined).catch(() => undefined);
  }
}

/** Reads a collection in `_id` order, decoded, in bounded batches (only `projection`'s fields when given). */
export async function* readBatches(
  db: Db,
  collection: string,
  filter: Filter<Document>,
  batchSize: number,
  signal?: AbortSignal,
  projection?: Document,
): AsyncGenerator<Document[]> {
  for await (const batch of readRawBatches(db, collection, filter, { batchSize, signal, projection })) yield batch.decode();
}

/** The database a MongoDB URI names in its path (`mongodb://host/shop?…` → `shop`), or undefined when it names none. */
export function databaseInUri(uri: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]*)/i.exec(uri.trim());
  if (!m || !m[1]) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

export interface SourceCheck {
  /** The requested collections that exist in the source, in the order given. */
  present: string[];
  /** The requested collections the source does not have. */
  missing: string[];
}

/**
 * The source database must be named (in MONGO_URI's path or with --mongo-db: the driver would
 * otherwise read the empty database "test") and must exist — a database without any collection
 * is one MongoDB does not have, such as a misspelled name — and the requested collections must
 * be in it. Without this, every collection was "migrated 0" and checkpointed done. Throws
 * ConfigError (exit 3) for a database; returns the missing collections for the caller to refuse
 * or skip.
 */
export async function checkSourceCollections(db: Db, opts: { uri: string; dbName?: string; collections: readonly string[] }): Promise<SourceCheck> {
  if (!opts.dbName && databaseInUri(opts.uri) === undefined) {
    throw new ConfigError([{ path: 'MONGO_URI', message: `names no database (nothing after the host in its path), so MongoDB would be read from its default database "${db.databaseName}"; put the database in MONGO_URI (mongodb://host:27017/shop) as the application's Mongoose does, or pass --mongo-db <name>` }], {
      hint: 'Nothing was read or written.',
    });
  }
  const names = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  if (names.size === 0) {
    const others = await db
      .admin()
      .listDatabases({ nameOnly: true })
      .then((r) => r.databases.map((d) => d.name).filter((n) => !['admin', 'local', 'config'].includes(n)))
      .catch(() => undefined);
    throw new ConfigError(
      [
        {
          path: opts.dbName ? '--mongo-db' : 'MONGO_URI',
          message: `MongoDB database "${db.databaseName}" does not exist (it has no collection)${others && others.length > 0 ? `; the server has: ${others.slice(0, 20).join(', ')}` : ''}`,
        },
      ],
      { hint: 'Check the database name in MONGO_URI (or --mongo-db): it must be the one the application uses. Nothing was read or written.' },
    );
  }
  return { present: opts.collections.filter((c) => names.has(c)), missing: opts.collections.filter((c) => !names.has(c)) };
}
