import { describe, expect, it } from 'vitest';
import { bucketOf, bucketUpperMs, MetricsRecorder, sqlOperation } from '../../src/core/metrics.js';

describe('MetricsRecorder', () => {
  it('counts requests, errors, items and bytes, and reads percentiles from the histogram within one bucket', () => {
    const m = new MetricsRecorder(() => new Date('2024-01-01T00:00:00Z'));
    for (let i = 1; i <= 100; i++) m.record({ operation: 'find', durationMs: i, ok: i % 10 !== 0, items: 2 });
    m.record({ operation: 'insert', durationMs: 1000, ok: true, bytes: 512 });
    const s = m.snapshot();
    expect(s).toMatchObject({ requests: 101, errors: 10, items: 200, bytes: 512, maxMs: 1000 });
    expect(s.errorRate).toBeCloseTo(10 / 101, 3);
    expect(s.meanMs).toBeCloseTo((5050 + 1000) / 101, 2);
    // True p50 is 51 ms, p95 96 ms: a bucket is a factor 2^(1/4) wide.
    expect(s.p50Ms).toBeGreaterThanOrEqual(51);
    expect(s.p50Ms).toBeLessThan(51 * 1.19);
    expect(s.p95Ms).toBeGreaterThanOrEqual(96);
    expect(s.p95Ms).toBeLessThan(96 * 1.19);
    expect(s.p99Ms).toBeLessThanOrEqual(1000);
    expect(s.operations).toEqual({ find: { requests: 100, errors: 10, totalMs: 5050 }, insert: { requests: 1, errors: 0, totalMs: 1000 } });
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('keeps memory bounded: operation names beyond the limit are summed under "other"', () => {
    const m = new MetricsRecorder();
    for (let i = 0; i < 1000; i++) m.record({ operation: `op${i}`, durationMs: 1, ok: true });
    const ops = m.snapshot().operations;
    expect(Object.keys(ops)).toHaveLength(25);
    expect(ops.other?.requests).toBe(1000 - 24);
  });

  it('reports nothing as zeros, and bytes as unknown until an adapter gives them', () => {
    const s = new MetricsRecorder().snapshot();
    expect(s).toMatchObject({ requests: 0, errors: 0, errorRate: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, bytes: null });
  });

  it('puts every duration in the bucket whose bounds contain it, extremes included', () => {
    for (const ms of [0, 0.001, 0.01, 0.5, 1, 7.3, 250, 60_000, 1e9, NaN, -3]) {
      const b = bucketOf(ms);
      expect(b).toBeGreaterThanOrEqual(0);
      if (ms > 0.01 && ms < 1e6) {
        expect(bucketUpperMs(b)).toBeGreaterThanOrEqual(ms * 0.999999);
        expect(bucketUpperMs(b - 1)).toBeLessThan(ms);
      }
    }
  });
});

describe('sqlOperation', () => {
  it('names the statement by its first keyword and never shows values', () => {
    expect(sqlOperation('  select 1')).toBe('SELECT');
    expect(sqlOperation('-- why\n/* c */ INSERT INTO t VALUES ($1)')).toBe('INSERT');
    expect(sqlOperation("COPY t FROM STDIN WITH (FORMAT text)")).toBe('COPY');
    expect(sqlOperation('')).toBe('SQL');
  });
});
