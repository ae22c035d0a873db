/**
 * Where the hybrid-mode measurements go: Prometheus metrics (prom-client, in a registry the
 * application can merge into its own) and the running totals behind `snapshot()`. Fed by the
 * MongoDB command monitor, the Prisma extension, the volume sampler and `readCombined`.
 */
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import type { CombinedReadCounts, CombinedReadSnapshot, DatabaseName, DatabaseSnapshot, HybridSnapshot, OperationSnapshot, VolumeTarget } from './hybrid-snapshot.js';
import { LatencyStats } from './latency-stats.js';
import { nameLabel } from './metric-labels.js';
import { newPromSeries, observeInto, SeriesCounter, SeriesHistogram, type PromSeries } from './series-metrics.js';

/** Request durations, in seconds: from half a millisecond (a cached lookup) to 10 s. */
export const DEFAULT_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Label value of the series that new names fall into once a database has `maxSeries` of them. */
export const OVERFLOW_LABEL = '_other';

export interface HybridMetricsOptions {
  registry: Registry;
  /** Metric name prefix (default `hybrid_`). */
  prefix?: string;
  buckets?: number[];
  /** Distinct (target, operation) pairs kept per database before new ones count as `_other` (default 500). */
  maxSeries?: number;
}

/** The result of one request to a database, as the monitors report it. */
export interface RequestOutcome {
  database: DatabaseName;
  target: string;
  operation: string;
  seconds: number;
  /** The error's code label when the request failed. */
  errorCode?: string;
}

/** What one page of `readCombined` showed. */
export interface CombinedReadObservation {
  collection: string;
  stats: { mongodb: number; postgresql: number; droppedMigrated: number };
}

interface Series {
  target: string;
  operation: string;
  labels: { database: DatabaseName; target: string; operation: string };
  /** What Prometheus reads (its requests counter and duration histogram). */
  prom: PromSeries;
  requests: number;
  errors: number;
  latency: LatencyStats;
}

interface DatabaseState {
  series: Map<string, Series>;
  errorsByCode: Map<string, number>;
  volume: VolumeTarget[] | null;
  sampledAt: Date | null;
  sampleErrors: number;
}

/** The metrics of one `instrumentHybrid`; `unregister()` takes them out of the registry again. */
export class HybridMetrics {
  readonly since = new Date();
  private readonly registry: Registry;
  private readonly maxSeries: number;
  private readonly names: string[];
  private readonly buckets: readonly number[];
  private readonly errors: Counter<'database' | 'target' | 'operation' | 'code'>;
  private readonly volumeBytes: Gauge<'database' | 'target'>;
  private readonly volumeRecords: Gauge<'database' | 'target'>;
  private readonly volumeErrors: Counter<'database'>;
  private readonly volumeTime: Gauge<'database'>;
  private readonly combinedPages: Counter<'collection' | 'served_by'>;
  private readonly combinedItems: Counter<'collection' | 'database'>;
  private readonly combinedDropped: Counter<'collection'>;
  private readonly state: Record<DatabaseName, DatabaseState> = { mongodb: emptyState(), postgresql: emptyState() };
  private readonly combined = new Map<string, CombinedReadCounts>();

  constructor(opts: HybridMetricsOptions) {
    const p = opts.prefix ?? 'hybrid_';
    this.registry = opts.registry;
    this.maxSeries = opts.maxSeries ?? 500;
    this.buckets = validBuckets(opts.buckets ?? DEFAULT_DURATION_BUCKETS);
    this.names = [];
    const registers = [opts.registry];
    const def = <T extends { name: string }>(cfg: T): T & { registers: Registry[] } => {
      if (opts.registry.getSingleMetric(cfg.name)) {
        this.unregister();
        throw new Error(`The metric ${cfg.name} is already registered: close() the previous instrumentHybrid first, or give this one another prefix.`);
      }
      this.names.push(cfg.name);
      return { ...cfg, registers };
    };
    const allSeries = () => this.allPromSeries();
    const requests = def({ name: `${p}db_requests_total`, help: 'Requests the application sent to each database (failed ones included), by collection or Prisma model and command or operation.' });
    opts.registry.registerMetric(new SeriesCounter(requests.name, requests.help, allSeries) as unknown as Metric);
    this.errors = new Counter(def({ name: `${p}db_request_errors_total`, help: 'Requests that failed, by error code (MongoDB codeName, Prisma P-code, or error class).', labelNames: ['database', 'target', 'operation', 'code'] as const }));
    const duration = def({ name: `${p}db_request_duration_seconds`, help: 'Response time of each request, from sending it to its reply.' });
    opts.registry.registerMetric(new SeriesHistogram(duration.name, duration.help, this.buckets, allSeries) as unknown as Metric);
    this.volumeBytes = new Gauge(def({ name: `${p}db_volume_bytes`, help: 'On-disk size of each collection or table, indexes included, from the server statistics of the last sample.', labelNames: ['database', 'target'] as const }));
    this.volumeRecords = new Gauge(def({ name: `${p}db_volume_records`, help: 'Documents in each collection, estimated rows in each table, from the server statistics of the last sample.', labelNames: ['database', 'target'] as const }));
    this.volumeErrors = new Counter(def({ name: `${p}db_volume_sample_errors_total`, help: 'Volume samples that failed.', labelNames: ['database'] as const }));
    this.volumeTime = new Gauge(def({ name: `${p}db_volume_sampled_timestamp_seconds`, help: 'When the last successful volume sample ended (Unix time).', labelNames: ['database'] as const }));
    this.combinedPages = new Counter(def({ name: `${p}combined_reads_total`, help: 'Pages read with readCombined, by the databases their items came from (mongodb, postgresql, both, none).', labelNames: ['collection', 'served_by'] as const }));
    this.combinedItems = new Counter(def({ name: `${p}combined_read_items_total`, help: 'Items readCombined showed, by the database they came from.', labelNames: ['collection', 'database'] as const }));
    this.combinedDropped = new Counter(def({ name: `${p}combined_read_migrated_dropped_total`, help: 'MongoDB documents readCombined skipped because their migrated PostgreSQL row was shown.', labelNames: ['collection'] as const }));
  }

  /** Counts one request: called on every request, so it allocates nothing for a known series. */
  recordRequest(r: RequestOutcome): void {
    const series = this.seriesFor(r.database, r.target, r.operation);
    series.requests++;
    series.latency.record(r.seconds * 1000);
    observeInto(series.prom, this.buckets, r.seconds);
    if (r.errorCode !== undefined) {
      series.errors++;
      const codes = this.state[r.database].errorsByCode;
      codes.set(r.errorCode, (codes.get(r.errorCode) ?? 0) + 1);
      this.errors.inc({ ...series.labels, code: r.errorCode });
    }
  }

  /** Replaces a database's volume by a new sample; gauges of targets gone since are removed. */
  recordVolume(database: DatabaseName, targets: VolumeTarget[], at: Date = new Date()): void {
    const s = this.state[database];
    const kept = new Set(targets.map((t) => t.target));
    for (const old of s.volume ?? []) {
      if (!kept.has(old.target)) {
        this.volumeBytes.remove({ database, target: old.target });
        this.volumeRecords.remove({ database, target: old.target });
      }
    }
    for (const t of targets) {
      if (t.bytes !== null) this.volumeBytes.set({ database, target: t.target }, t.bytes);
      if (t.records !== null) this.volumeRecords.set({ database, target: t.target }, t.records);
    }
    s.volume = targets;
    s.sampledAt = at;
    this.volumeTime.set({ database }, at.getTime() / 1000);
  }

  recordVolumeError(database: DatabaseName): void {
    this.state[database].sampleErrors++;
    this.volumeErrors.inc({ database });
  }

  /** Counts one page of `readCombined` (pass as its `observe` option). */
  recordCombinedRead(read: CombinedReadObservation): void {
    const collection = nameLabel(read.collection);
    const { mongodb, postgresql, droppedMigrated } = read.stats;
    const servedBy = mongodb > 0 ? (postgresql > 0 ? 'both' : 'mongodb') : postgresql > 0 ? 'postgresql' : 'none';
    let c = this.combined.get(collection);
    if (!c) this.combined.set(collection, (c = emptyCombined()));
    c.pages++;
    c.servedBy[servedBy]++;
    c.items.mongodb += mongodb;
    c.items.postgresql += postgresql;
    c.droppedMigrated += droppedMigrated;
    this.combinedPages.inc({ collection, served_by: servedBy });
    this.combinedItems.inc({ collection, database: 'mongodb' }, mongodb);
    this.combinedItems.inc({ collection, database: 'postgresql' }, postgresql);
    if (droppedMigrated > 0) this.combinedDropped.inc({ collection }, droppedMigrated);
  }

  /** Everything so far; `monitoring` says per database whether requests are being seen. */
  snapshot(monitoring: Record<DatabaseName, DatabaseSnapshot['monitoring'] | 'absent'>): HybridSnapshot {
    return {
      since: this.since.toISOString(),
      takenAt: new Date().toISOString(),
      databases: { mongodb: this.databaseSnapshot('mongodb', monitoring.mongodb), postgresql: this.databaseSnapshot('postgresql', monitoring.postgresql) },
      combinedReads: this.combinedSnapshot(),
    };
  }

  /** Takes this instrumentation's metrics out of the registry (another one may then register). */
  unregister(): void {
    for (const name of this.names) this.registry.removeSingleMetric(name);
    this.names.length = 0;
  }

  private *allPromSeries(): Iterable<PromSeries> {
    for (const db of ['mongodb', 'postgresql'] as const) for (const s of this.state[db].series.values()) yield s.prom;
  }

  private seriesFor(database: DatabaseName, target: string, operation: string): Series {
    const all = this.state[database].series;
    const key = `${target}\u0000${operation}`;
    const found = all.get(key);
    if (found) return found;
    const overflow = all.size >= this.maxSeries;
    const t = overflow ? OVERFLOW_LABEL : nameLabel(target);
    const o = overflow ? OVERFLOW_LABEL : nameLabel(operation);
    const existing = overflow ? all.get(`${t}\u0000${o}`) : undefined;
    if (existing) return existing;
    const labels = { database, target: t, operation: o };
    const series: Series = { target: t, operation: o, labels, prom: newPromSeries(labels, this.buckets), requests: 0, errors: 0, latency: new LatencyStats() };
    all.set(overflow ? `${t}\u0000${o}` : key, series);
    return series;
  }

  private databaseSnapshot(database: DatabaseName, monitoring: DatabaseSnapshot['monitoring'] | 'absent'): DatabaseSnapshot {
    const s = this.state[database];
    const total = new LatencyStats();
    let requests = 0;
    let errors = 0;
    const operations: OperationSnapshot[] = [];
    for (const series of s.series.values()) {
      total.merge(series.latency);
      requests += series.requests;
      errors += series.errors;
      operations.push({ target: series.target, operation: series.operation, requests: series.requests, errors: series.errors, errorRate: rate(series.errors, series.requests), ...latencyOf(series.latency) });
    }
    operations.sort((a, b) => b.requests - a.requests || a.target.localeCompare(b.target) || a.operation.localeCompare(b.operation));
    const volume = s.volume ?? [];
    return {
      instrumented: monitoring !== 'absent',
      monitoring: monitoring === 'absent' ? 'off' : monitoring,
      requests,
      errors,
      errorRate: rate(errors, requests),
      latency: latencyOf(total),
      errorsByCode: Object.fromEntries(s.errorsByCode),
      volume: {
        bytes: s.volume ? sumOf(volume, 'bytes') : null,
        records: s.volume ? sumOf(volume, 'records') : null,
        sampledAt: s.sampledAt?.toISOString() ?? null,
        sampleErrors: s.sampleErrors,
        targets: volume.map((t) => ({ ...t })),
      },
      operations,
    };
  }

  private combinedSnapshot(): CombinedReadSnapshot {
    const all = emptyCombined();
    const collections: Record<string, CombinedReadCounts> = {};
    for (const [name, c] of this.combined) {
      collections[name] = withShare(structuredClone(c));
      all.pages += c.pages;
      for (const k of ['mongodb', 'postgresql', 'both', 'none'] as const) all.servedBy[k] += c.servedBy[k];
      all.items.mongodb += c.items.mongodb;
      all.items.postgresql += c.items.postgresql;
      all.droppedMigrated += c.droppedMigrated;
    }
    return { ...withShare(all), collections };
  }
}

/** Histogram bounds in seconds: finite, positive, ascending, each once. */
function validBuckets(buckets: readonly number[]): number[] {
  const sorted = [...new Set(buckets)].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted.some((b) => !(Number.isFinite(b) && b > 0))) throw new RangeError('buckets must be finite positive numbers of seconds');
  return sorted;
}

function emptyState(): DatabaseState {
  return { series: new Map(), errorsByCode: new Map(), volume: null, sampledAt: null, sampleErrors: 0 };
}

function emptyCombined(): CombinedReadCounts {
  return { pages: 0, servedBy: { mongodb: 0, postgresql: 0, both: 0, none: 0 }, items: { mongodb: 0, postgresql: 0 }, mongodbShare: null, droppedMigrated: 0 };
}

function withShare(c: CombinedReadCounts): CombinedReadCounts {
  const items = c.items.mongodb + c.items.postgresql;
  c.mongodbShare = items === 0 ? null : c.items.mongodb / items;
  return c;
}

function rate(errors: number, requests: number): number | null {
  return requests === 0 ? null : errors / requests;
}

function latencyOf(l: LatencyStats) {
  return { meanMs: l.meanMs(), p95Ms: l.quantileMs(0.95), maxMs: l.count === 0 ? null : l.maxMs };
}

function sumOf(targets: VolumeTarget[], field: 'bytes' | 'records'): number | null {
  const known = targets.filter((t) => t[field] !== null);
  return known.length === 0 && targets.length > 0 ? null : known.reduce((n, t) => n + (t[field] as number), 0);
}
