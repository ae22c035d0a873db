/**
 * Hybrid-mode monitoring inside the application: the customer's "what we want to watch"
 * (requests, response time, error rate and data volume per database) for its own traffic, and
 * how much of `readCombined`'s output still comes from MongoDB. Called once at start-up:
 *
 *   await mongoose.connect(process.env.MONGO_URI, { monitorCommands: true });
 *   const hybrid = instrumentHybrid({ mongo: mongoose, prisma: basePrisma, volume: { intervalMs: 60_000 } });
 *   export const prisma = hybrid.prisma;            // use this client everywhere
 *   app.get('/metrics', hybrid.metricsHandler);
 *
 * Exposed as Prometheus metrics (prom-client, see README for names and labels) and as a plain
 * `snapshot()` object.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { readCombined, type CombinedPage, type CombinedReadOptions } from './combined-read.js';
import { HybridMetrics, type CombinedReadObservation } from './hybrid-metrics.js';
import type { DatabaseName, DatabaseSnapshot, HybridSnapshot } from './hybrid-snapshot.js';
import { ensureCommandMonitoring, HybridInstrumentationError, mongoClientOf, MongoCommandMonitor, type MongoInstrumentable } from './mongo-command-monitor.js';
import { instrumentPrismaClient, type ExtendablePrismaClient } from './prisma-query-monitor.js';
import type { PrismaRawQueryable } from './registry.js';
import { SampleSchedule, sampleMongoVolume, samplePostgresVolume, type MongoStatsDb } from './volume-sampler.js';

/** When and what to sample for the data volume. */
export interface VolumeSamplingOptions {
  /** Milliseconds between the end of one sample and the start of the next (default 60,000; at least 100). */
  intervalMs?: number;
  /** MongoDB collections to sample (default: all but `system.*` and views). */
  collections?: string[];
  /** PostgreSQL tables of the current schema to sample (default: all but `_prisma_migrations`). */
  tables?: string[];
}

export interface InstrumentHybridOptions<P extends ExtendablePrismaClient | undefined> {
  /**
   * The application's MongoDB connection: the mongoose module, a mongoose Connection or a
   * MongoClient, connected with `monitorCommands: true` (or not connected yet).
   */
  mongo?: MongoInstrumentable;
  /** The application's Prisma client; the instrumented one is `instrumentation.prisma`. */
  prisma?: P;
  /** Register the metrics in this registry (e.g. prom-client's default `register`); default: a new one. */
  registry?: Registry;
  /** Metric name prefix (default `hybrid_`). */
  prefix?: string;
  /** Data volume sampling; `false` for none. Default: every 60 s. */
  volume?: VolumeSamplingOptions | false;
  /** Histogram buckets of the request durations, in seconds. */
  buckets?: number[];
  /** Distinct (collection/model, operation) pairs per database before new ones are counted as `_other` (default 500). */
  maxSeries?: number;
}

export interface HybridInstrumentation<P> {
  /** The Prisma client to use from now on: every operation through it is counted (undefined without `prisma`). */
  readonly prisma: P;
  /** The registry holding the metrics: serve it, or merge it with `Registry.merge([register, hybrid.registry])`. */
  readonly registry: Registry;
  /** A Node/Express request handler serving the registry in the Prometheus text format: `app.get('/metrics', hybrid.metricsHandler)`. */
  readonly metricsHandler: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** Everything measured since start-up, per database. */
  snapshot(): HybridSnapshot;
  /** Samples the data volume now (also what the schedule runs); failures are counted, not thrown. */
  sampleVolume(): Promise<void>;
  /** `readCombined`, with the pages it reads counted in the MongoDB/PostgreSQL split. */
  readCombined<MongoDoc extends object, Row extends object, Out = (MongoDoc & { id: string }) | Row>(opts: CombinedReadOptions<MongoDoc, Row, Out>): Promise<CombinedPage<Out>>;
  /** The same count, to pass as `readCombined`'s `observe` option where the plain function is called. */
  readonly observeCombinedRead: (read: CombinedReadObservation) => void;
  /** Stops sampling and counting, removes the MongoDB listeners and takes the metrics out of the registry. */
  close(): Promise<void>;
}

/**
 * Starts counting the application's requests to MongoDB (driver command events) and to
 * PostgreSQL (a Prisma query extension), sampling each database's volume, and serving both
 * as Prometheus metrics. Throws `HybridInstrumentationError` when MongoDB's command events
 * cannot be had (see its message for the fix).
 */
export function instrumentHybrid<P extends ExtendablePrismaClient | undefined = undefined>(opts: InstrumentHybridOptions<P>): HybridInstrumentation<P> {
  if (!opts.mongo && !opts.prisma) throw new HybridInstrumentationError('NOTHING_TO_INSTRUMENT', 'instrumentHybrid: neither `mongo` nor `prisma` was given.', 'Pass the mongoose connection and/or the Prisma client.');
  const intervalMs = opts.volume === false ? undefined : (opts.volume?.intervalMs ?? 60_000);
  if (intervalMs !== undefined && !(Number.isInteger(intervalMs) && intervalMs >= 100)) throw new RangeError('instrumentHybrid: volume.intervalMs must be an integer of at least 100 (milliseconds)');
  const client = opts.mongo ? mongoClientOf(opts.mongo) : undefined;
  if (client) ensureCommandMonitoring(client);
  const registry = opts.registry ?? new Registry();
  const metrics = new HybridMetrics({ registry, prefix: opts.prefix, buckets: opts.buckets, maxSeries: opts.maxSeries });
  let active = true;
  const record = metrics.recordRequest.bind(metrics);
  const monitor = client ? new MongoCommandMonitor(client, (r) => active && record(r)) : undefined;
  const prisma = opts.prisma ? instrumentPrismaClient(opts.prisma, record, () => active) : opts.prisma;
  let mongoMonitoring: DatabaseSnapshot['monitoring'] = 'unverified';

  const sampleVolume = async (): Promise<void> => {
    const volume = opts.volume || {};
    const jobs: Promise<void>[] = [];
    if (opts.mongo) {
      jobs.push(sampleOne(metrics, 'mongodb', async () => {
        const targets = await sampleMongoVolume(mongoDbOf(opts.mongo!), volume.collections);
        // The sampler's commands went through the same client: not one event means monitoring is off.
        if (monitor && !monitor.sawCommand) mongoMonitoring = 'off';
        return targets;
      }));
    }
    if (opts.prisma) jobs.push(sampleOne(metrics, 'postgresql', () => samplePostgresVolume(opts.prisma as unknown as PrismaRawQueryable, volume.tables)));
    await Promise.all(jobs);
  };
  const schedule = intervalMs === undefined ? undefined : new SampleSchedule(intervalMs, () => (active ? sampleVolume() : Promise.resolve()));
  schedule?.start();
  const observeCombinedRead = (read: CombinedReadObservation) => {
    if (active) metrics.recordCombinedRead(read);
  };

  return {
    prisma: prisma as P,
    registry,
    metricsHandler: metricsHandlerFor(registry),
    snapshot: () => metrics.snapshot(monitoringOf(opts.prisma !== undefined, monitor, mongoMonitoring)),
    sampleVolume,
    readCombined: (o) => readCombined({ ...o, observe: chain(o.observe, observeCombinedRead) }),
    observeCombinedRead,
    close: async () => {
      if (!active) return;
      active = false;
      monitor?.stop();
      await schedule?.stop();
      metrics.unregister();
    },
  };
}

/** Samples one database; a failure is counted (the database may be down), never thrown. */
async function sampleOne(metrics: HybridMetrics, database: DatabaseName, sample: () => Promise<Parameters<HybridMetrics['recordVolume']>[1]>): Promise<void> {
  try {
    metrics.recordVolume(database, await sample());
  } catch {
    metrics.recordVolumeError(database);
  }
}

function monitoringOf(hasPrisma: boolean, monitor: MongoCommandMonitor | undefined, mongo: DatabaseSnapshot['monitoring']): Record<DatabaseName, DatabaseSnapshot['monitoring'] | 'absent'> {
  return {
    mongodb: !monitor ? 'absent' : mongo === 'off' ? 'off' : monitor.sawCommand ? 'on' : 'unverified',
    postgresql: hasPrisma ? 'on' : 'absent',
  };
}

/** The database the volume of MongoDB is sampled in: the connection's (mongoose) or the URI's default (MongoClient). */
function mongoDbOf(m: MongoInstrumentable): MongoStatsDb {
  const conn = ('connection' in m ? m.connection : m) as { db?: unknown; getClient?: unknown };
  const db = typeof conn.getClient === 'function' ? conn.db : (m as { db(): unknown }).db();
  if (!db) throw new Error('MongoDB connection is not open');
  return db as MongoStatsDb;
}

function chain<T>(a: ((x: T) => void) | undefined, b: (x: T) => void): (x: T) => void {
  return a ? (x) => (a(x), b(x)) : b;
}

/** Serves the registry; an error answers 500 without its message (it could name a database). */
function metricsHandlerFor(registry: Registry): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (_req, res) => {
    try {
      const text = await registry.metrics();
      res.statusCode = 200;
      res.setHeader('Content-Type', registry.contentType);
      res.end(text);
    } catch {
      res.statusCode = 500;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('metrics unavailable\n');
    }
  };
}
