/**
 * Request metrics per database — what the customer watches: requests, response time,
 * errors and volume. A recorder is a few counters and a fixed log-scale histogram of
 * durations, so memory stays constant whatever the length of the run; percentiles are
 * read from the histogram (upper bound of the bucket: at most ~19% above the true value).
 * Pure: the database adapters feed it (src/source/mongo-source.ts, src/target/pg-target.ts).
 */

/** Buckets per doubling of the duration: 4 → each bucket spans a factor 2^(1/4) ≈ 1.19. */
const STEPS_PER_OCTAVE = 4;
/** Lowest bucket bound, in milliseconds; faster requests land in the first bucket. */
const MIN_MS = 0.01;
/** 0.01 ms × 2^27 ≈ 22 minutes: slower requests land in the last bucket. */
const BUCKETS = 27 * STEPS_PER_OCTAVE + 1;
/** Operation names kept separately (`find`, `insert`, `SELECT`, `COPY`…); the rest is summed under "other". */
const MAX_OPERATIONS = 24;

/** One operation kind's totals inside a snapshot. */
export interface OperationMetrics {
  requests: number;
  errors: number;
  totalMs: number;
}

/** Aggregated metrics of one database over a period (JSON-serialisable: stored in `runs.summary.metrics`). */
export interface DatabaseMetrics {
  /** When recording started and when this snapshot was taken (ISO 8601). */
  since: string;
  until: string;
  requests: number;
  errors: number;
  /** errors / requests (0 when there was no request). */
  errorRate: number;
  totalMs: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Documents (MongoDB) or rows (PostgreSQL) returned or affected, where the driver reports them. */
  items: number;
  /** Bytes sent and received where the adapter can count them cheaply; null when it cannot. */
  bytes: number | null;
  /** Per command (MongoDB: `find`, `getMore`…) or statement kind (PostgreSQL: `SELECT`, `COPY`…). */
  operations: Record<string, OperationMetrics>;
}

/** The metrics of a run, per database (either may be absent: a run that never reached it). */
export interface RunMetrics {
  mongodb?: DatabaseMetrics;
  postgresql?: DatabaseMetrics;
}

/** What an adapter reports about one finished request. */
export interface RequestSample {
  operation: string;
  durationMs: number;
  ok: boolean;
  items?: number;
  bytes?: number;
}

/** Index of the histogram bucket whose upper bound is the first ≥ ms. */
export function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const i = Math.ceil(Math.log2(ms / MIN_MS) * STEPS_PER_OCTAVE);
  return Math.min(BUCKETS - 1, i);
}

/** Upper bound, in ms, of a bucket. */
export function bucketUpperMs(i: number): number {
  return MIN_MS * 2 ** (i / STEPS_PER_OCTAVE);
}

/** Counters and a duration histogram for the requests to one database. */
export class MetricsRecorder {
  private readonly started: Date;
  private readonly histogram = new Float64Array(BUCKETS);
  private readonly operations = new Map<string, OperationMetrics>();
  private requests = 0;
  private errors = 0;
  private totalMs = 0;
  private maxMs = 0;
  private items = 0;
  private bytes = 0;
  private bytesKnown = false;

  constructor(private readonly now: () => Date = () => new Date()) {
    this.started = now();
  }

  /** Adds one finished request. Never throws: metrics must not break a run. */
  record(sample: RequestSample): void {
    const ms = Number.isFinite(sample.durationMs) && sample.durationMs > 0 ? sample.durationMs : 0;
    this.requests++;
    if (!sample.ok) this.errors++;
    this.totalMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
    this.histogram[bucketOf(ms)]! += 1;
    if (sample.items !== undefined && Number.isFinite(sample.items) && sample.items > 0) this.items += sample.items;
    if (sample.bytes !== undefined && Number.isFinite(sample.bytes) && sample.bytes >= 0) {
      this.bytes += sample.bytes;
      this.bytesKnown = true;
    }
    const name = this.operations.has(sample.operation) || this.operations.size < MAX_OPERATIONS ? sample.operation : 'other';
    let op = this.operations.get(name);
    if (!op) this.operations.set(name, (op = { requests: 0, errors: 0, totalMs: 0 }));
    op.requests++;
    if (!sample.ok) op.errors++;
    op.totalMs += ms;
  }

  /** The duration below which `q` (0..1) of the requests finished (bucket upper bound, capped by the maximum seen). */
  percentile(q: number): number {
    if (this.requests === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.requests));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.histogram[i]!;
      if (seen >= rank) return Math.min(bucketUpperMs(i), this.maxMs);
    }
    return this.maxMs;
  }

  /** A JSON-serialisable copy of the totals so far (the recorder keeps counting). */
  snapshot(): DatabaseMetrics {
    const round = (n: number) => Math.round(n * 1000) / 1000;
    return {
      since: this.started.toISOString(),
      until: this.now().toISOString(),
      requests: this.requests,
      errors: this.errors,
      errorRate: this.requests === 0 ? 0 : round(this.errors / this.requests),
      totalMs: round(this.totalMs),
      meanMs: this.requests === 0 ? 0 : round(this.totalMs / this.requests),
      p50Ms: round(this.percentile(0.5)),
      p95Ms: round(this.percentile(0.95)),
      p99Ms: round(this.percentile(0.99)),
      maxMs: round(this.maxMs),
      items: this.items,
      bytes: this.bytesKnown ? this.bytes : null,
      operations: Object.fromEntries([...this.operations].map(([k, v]) => [k, { ...v, totalMs: round(v.totalMs) }])),
    };
  }
}

/** The statement kind of a SQL text (`SELECT`, `INSERT`, `COPY`…): its first keyword, upper-cased; never its values. */
export function sqlOperation(text: string): string {
  const m = /^\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*([A-Za-z]+)/.exec(text);
  return m?.[1] ? m[1].toUpperCase() : 'SQL';
}
