/**
 * Response times for the hybrid-mode snapshot: count, mean, max and quantiles (p95) of the
 * durations seen since start-up, in constant memory. Durations fall into log-spaced buckets,
 * each 10% wider than the one below (from 1 µs to hours), so a quantile is exact to within
 * 10% whatever the traffic — Prometheus' own histogram has far coarser buckets and no max.
 */

/** Each bucket's upper bound is GROWTH times the previous one's. */
const GROWTH = 1.1;
/** Upper bound of bucket 0, in milliseconds (1 µs). */
const SMALLEST_MS = 0.001;
/** 1 µs × 1.1^256 ≈ 11 hours: the last bucket also takes anything longer. */
const BUCKETS = 256;
const LOG_GROWTH = Math.log(GROWTH);

/** The upper bound, in milliseconds, of bucket `i`. */
function upperBoundMs(i: number): number {
  return SMALLEST_MS * GROWTH ** i;
}

function bucketOf(ms: number): number {
  if (!(ms > SMALLEST_MS)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / SMALLEST_MS) / LOG_GROWTH));
}

/** Durations in milliseconds: count, sum, max and a log-bucket histogram. */
export class LatencyStats {
  count = 0;
  sumMs = 0;
  maxMs = 0;
  private readonly buckets = new Float64Array(BUCKETS);

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.count++;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
    this.buckets[bucketOf(ms)]! += 1;
  }

  /** Adds `other`'s durations to this one (for a database's total over its operations). */
  merge(other: LatencyStats): this {
    this.count += other.count;
    this.sumMs += other.sumMs;
    this.maxMs = Math.max(this.maxMs, other.maxMs);
    for (let i = 0; i < BUCKETS; i++) this.buckets[i]! += other.buckets[i]!;
    return this;
  }

  meanMs(): number | null {
    return this.count === 0 ? null : this.sumMs / this.count;
  }

  /**
   * The `q` quantile (0 < q ≤ 1): the upper bound of the bucket holding it, never above the
   * max seen, so it over-states by less than 10%. Null before the first duration.
   */
  quantileMs(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return Math.min(upperBoundMs(i), this.maxMs);
    }
    return this.maxMs;
  }
}
