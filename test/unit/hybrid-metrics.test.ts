/**
 * The pure parts of the hybrid-mode metrics: latency statistics, label rules, how a MongoDB
 * command event is read (target, write errors), the metrics store behind /metrics and
 * snapshot(), and the PostgreSQL row estimate. The servers are in
 * test/integration/hybrid-metrics.test.ts.
 */
import { Counter, Histogram, Registry, type Metric, type RegistryContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HybridMetrics, OVERFLOW_LABEL } from '../../src/hybrid-mode/hybrid-metrics.js';
import { LatencyStats } from '../../src/hybrid-mode/latency-stats.js';
import { errorCodeLabel, INVALID_LABEL, nameLabel } from '../../src/hybrid-mode/metric-labels.js';
import { commandTarget, ensureCommandMonitoring, HybridInstrumentationError, replyErrorCode } from '../../src/hybrid-mode/mongo-command-monitor.js';
import { newPromSeries, observeInto, SeriesCounter, SeriesHistogram, type PromSeries } from '../../src/hybrid-mode/series-metrics.js';
import { estimatedRows } from '../../src/hybrid-mode/volume-sampler.js';

describe('LatencyStats', () => {
  it('gives the exact mean and max, and p95 within 10% above the true value', () => {
    const s = new LatencyStats();
    for (let ms = 1; ms <= 1000; ms++) s.record(ms);
    expect(s.count).toBe(1000);
    expect(s.meanMs()).toBeCloseTo(500.5, 9);
    expect(s.maxMs).toBe(1000);
    expect(s.quantileMs(0.95)).toBeGreaterThanOrEqual(950);
    expect(s.quantileMs(0.95)).toBeLessThanOrEqual(950 * 1.1);
    expect(s.quantileMs(0.5)).toBeGreaterThanOrEqual(500);
    expect(s.quantileMs(0.5)).toBeLessThanOrEqual(550);
    expect(s.quantileMs(1)).toBe(1000);
  });

  it('is empty before the first duration, ignores nonsense, and never reports a quantile above the max', () => {
    const s = new LatencyStats();
    expect([s.meanMs(), s.quantileMs(0.95)]).toEqual([null, null]);
    s.record(NaN);
    s.record(-1);
    s.record(Infinity);
    expect(s.count).toBe(0);
    s.record(0.0004);
    s.record(3.3);
    expect(s.quantileMs(0.95)).toBe(3.3);
    expect(s.quantileMs(0.5)).toBeLessThanOrEqual(0.001);
  });

  it('merges to the same statistics as recording everything in one', () => {
    const a = new LatencyStats();
    const b = new LatencyStats();
    const all = new LatencyStats();
    for (let i = 0; i < 500; i++) {
      const ms = ((i * 7919) % 997) / 10;
      (i % 3 === 0 ? a : b).record(ms);
      all.record(ms);
    }
    const merged = new LatencyStats().merge(a).merge(b);
    expect([merged.count, merged.maxMs, merged.quantileMs(0.95), merged.quantileMs(0.5)]).toEqual([all.count, all.maxMs, all.quantileMs(0.95), all.quantileMs(0.5)]);
    expect(merged.meanMs()).toBeCloseTo(all.meanMs()!, 9);
  });
});

describe('labels', () => {
  it('keeps names short and printable, and nothing else', () => {
    expect(nameLabel('orders')).toBe('orders');
    expect(nameLabel(undefined)).toBe('');
    expect(nameLabel('x'.repeat(101))).toBe(INVALID_LABEL);
    expect(nameLabel('a\nb')).toBe(INVALID_LABEL);
    expect(nameLabel({ $where: 'secret' })).toBe(INVALID_LABEL);
  });

  it("names an error by its code or class, never by its message (which quotes the values)", () => {
    const secret = 'E11000 duplicate key error dup key: { email: "alice@example.com" }';
    expect(errorCodeLabel(Object.assign(new Error(secret), { code: 11000, codeName: 'DuplicateKey' }))).toBe('DuplicateKey');
    expect(errorCodeLabel(Object.assign(new Error(secret), { code: 'P2002', name: 'PrismaClientKnownRequestError' }))).toBe('P2002');
    expect(errorCodeLabel(Object.assign(new Error(secret), { name: 'PrismaClientValidationError' }))).toBe('PrismaClientValidationError');
    expect(errorCodeLabel(Object.assign(new Error(secret), { name: 'not an identifier!', code: secret }))).toBe('unknown');
    expect(errorCodeLabel('just a string')).toBe('unknown');
    expect(errorCodeLabel(undefined)).toBe('unknown');
  });
});

describe('MongoDB command events', () => {
  it('reads the collection of collection commands, getMore included, and nothing from other commands', () => {
    expect(commandTarget('find', { find: 'orders', filter: { email: 'secret' } })).toBe('orders');
    expect(commandTarget('insert', { insert: 'clients', documents: [{}] })).toBe('clients');
    expect(commandTarget('getMore', { getMore: 123n, collection: 'orders' })).toBe('orders');
    expect(commandTarget('aggregate', { aggregate: 1, pipeline: [] })).toBe('');
    expect(commandTarget('ping', { ping: 1 })).toBe('');
    // A command that is not about a collection, whatever its first field holds.
    expect(commandTarget('saslStart', { saslStart: 'payload' })).toBe('');
    expect(commandTarget('find', undefined)).toBe('');
  });

  it('finds the write errors of replies that the driver throws although the command succeeded', () => {
    expect(replyErrorCode({ ok: 1, n: 1 })).toBeUndefined();
    expect(replyErrorCode({ ok: 1, n: 0, writeErrors: [{ index: 0, code: 11000, errmsg: 'dup key: { email: "secret" }' }] })).toBe('DuplicateKey');
    expect(replyErrorCode({ ok: 1, writeErrors: [{ code: 121, codeName: 'DocumentValidationFailure' }] })).toBe('DocumentValidationFailure');
    expect(replyErrorCode({ ok: 1, writeErrors: [{ code: 2 }] })).toBe('WriteError');
    expect(replyErrorCode({ ok: 1, writeConcernError: { code: 64 } })).toBe('WriteConcernError');
    expect(replyErrorCode(undefined)).toBeUndefined();
  });

  it('sets monitorCommands on a client that has not connected, and refuses a connected one without it', () => {
    const fresh = { options: { monitorCommands: false }, on: () => undefined, removeListener: () => undefined, db: () => undefined };
    ensureCommandMonitoring(fresh);
    expect(fresh.options.monitorCommands).toBe(true);
    const connected = { ...fresh, options: { monitorCommands: false }, topology: {} };
    expect(() => ensureCommandMonitoring(connected)).toThrow(HybridInstrumentationError);
    expect(() => ensureCommandMonitoring(connected)).toThrow(/monitorCommands: true/);
    expect(() => ensureCommandMonitoring({ ...connected, options: { monitorCommands: true } })).not.toThrow();
  });
});

describe('HybridMetrics', () => {
  const fresh = (maxSeries?: number) => {
    const registry = new Registry();
    return { registry, metrics: new HybridMetrics({ registry, maxSeries }) };
  };

  it('feeds Prometheus and the snapshot with the same counts, per database', async () => {
    const { registry, metrics } = fresh();
    for (let i = 0; i < 9; i++) metrics.recordRequest({ database: 'mongodb', target: 'orders', operation: 'find', seconds: 0.002 });
    metrics.recordRequest({ database: 'mongodb', target: 'orders', operation: 'insert', seconds: 0.004, errorCode: 'DuplicateKey' });
    metrics.recordRequest({ database: 'postgresql', target: 'Order', operation: 'findUnique', seconds: 0.001 });
    const s = metrics.snapshot({ mongodb: 'on', postgresql: 'on' });
    expect(s.databases.mongodb).toMatchObject({ requests: 10, errors: 1, errorRate: 0.1, errorsByCode: { DuplicateKey: 1 } });
    expect(s.databases.mongodb.operations.map((o) => [o.target, o.operation, o.requests, o.errors])).toEqual([['orders', 'find', 9, 0], ['orders', 'insert', 1, 1]]);
    expect(s.databases.mongodb.latency.maxMs).toBeCloseTo(4, 9);
    expect(s.databases.mongodb.latency.meanMs).toBeCloseTo(2.2, 9);
    expect(s.databases.postgresql).toMatchObject({ requests: 1, errors: 0, errorRate: 0 });
    const text = await registry.metrics();
    expect(text).toContain('hybrid_db_requests_total{database="mongodb",target="orders",operation="find"} 9');
    expect(text).toContain('hybrid_db_request_errors_total{database="mongodb",target="orders",operation="insert",code="DuplicateKey"} 1');
    expect(text).toContain('hybrid_db_request_duration_seconds_bucket{le="0.0025",database="mongodb",target="orders",operation="find"} 9');
    expect(text).toContain('hybrid_db_request_duration_seconds_count{database="postgresql",target="Order",operation="findUnique"} 1');
  });

  it('caps the series per database: new names past the cap count under _other', async () => {
    const { registry, metrics } = fresh(3);
    for (let i = 0; i < 10; i++) metrics.recordRequest({ database: 'mongodb', target: `tenant_${i}`, operation: 'find', seconds: 0.001 });
    const ops = metrics.snapshot({ mongodb: 'on', postgresql: 'absent' }).databases.mongodb.operations;
    expect(ops).toHaveLength(4);
    expect(ops.find((o) => o.target === OVERFLOW_LABEL)).toMatchObject({ operation: OVERFLOW_LABEL, requests: 7 });
    expect(ops.reduce((n, o) => n + o.requests, 0)).toBe(10);
    expect((await registry.metrics()).match(/^hybrid_db_requests_total\{/gm)).toHaveLength(4);
  });

  it('replaces the volume by each sample, dropping gauges of collections gone since', async () => {
    const { registry, metrics } = fresh();
    metrics.recordVolume('mongodb', [{ target: 'a', bytes: 100, records: 2 }, { target: 'b', bytes: 50, records: 1 }]);
    metrics.recordVolume('mongodb', [{ target: 'a', bytes: 120, records: 3 }, { target: 'c', bytes: null, records: null }]);
    metrics.recordVolumeError('postgresql');
    const s = metrics.snapshot({ mongodb: 'on', postgresql: 'on' });
    expect(s.databases.mongodb.volume).toMatchObject({ bytes: 120, records: 3, sampleErrors: 0 });
    expect(s.databases.postgresql.volume).toMatchObject({ bytes: null, records: null, sampledAt: null, sampleErrors: 1 });
    const text = await registry.metrics();
    expect(text).toContain('hybrid_db_volume_bytes{database="mongodb",target="a"} 120');
    expect(text).not.toContain('target="b"');
    expect(text).not.toContain('target="c"');
    expect(text).toContain('hybrid_db_volume_sample_errors_total{database="postgresql"} 1');
  });

  it("classifies readCombined pages by the databases that served them, and MongoDB's share of the items", async () => {
    const { registry, metrics } = fresh();
    metrics.recordCombinedRead({ collection: 'orders', stats: { mongodb: 3, postgresql: 7, droppedMigrated: 2 } });
    metrics.recordCombinedRead({ collection: 'orders', stats: { mongodb: 0, postgresql: 10, droppedMigrated: 0 } });
    metrics.recordCombinedRead({ collection: 'clients', stats: { mongodb: 5, postgresql: 0, droppedMigrated: 0 } });
    metrics.recordCombinedRead({ collection: 'clients', stats: { mongodb: 0, postgresql: 0, droppedMigrated: 0 } });
    const c = metrics.snapshot({ mongodb: 'on', postgresql: 'on' }).combinedReads;
    expect(c).toMatchObject({ pages: 4, servedBy: { both: 1, postgresql: 1, mongodb: 1, none: 1 }, items: { mongodb: 8, postgresql: 17 }, droppedMigrated: 2 });
    expect(c.mongodbShare).toBeCloseTo(8 / 25, 9);
    expect(c.collections.orders).toMatchObject({ pages: 2, items: { mongodb: 3, postgresql: 17 } });
    expect(c.collections.orders?.mongodbShare).toBeCloseTo(3 / 20, 9);
    const text = await registry.metrics();
    expect(text).toContain('hybrid_combined_reads_total{collection="orders",served_by="both"} 1');
    expect(text).toContain('hybrid_combined_read_items_total{collection="orders",database="mongodb"} 3');
    expect(text).toContain('hybrid_combined_read_migrated_dropped_total{collection="orders"} 2');
  });

  it('refuses to register twice in one registry, leaving nothing half-registered, and unregisters', async () => {
    const { registry, metrics } = fresh();
    expect(() => new HybridMetrics({ registry })).toThrow(/already registered/);
    const other = new HybridMetrics({ registry, prefix: 'shop_' });
    metrics.unregister();
    expect(await registry.metrics()).not.toMatch(/^# TYPE hybrid_/m);
    expect(await registry.metrics()).toMatch(/^# TYPE shop_db_requests_total counter/m);
    other.unregister();
    expect(registry.getMetricsAsArray()).toHaveLength(0);
    // The names are free again.
    expect(() => new HybridMetrics({ registry })).not.toThrow();
  });
});

describe('PostgreSQL row estimate', () => {
  it("is the planner's: rows per page of the last ANALYZE times the pages now; the live-tuple count before any ANALYZE", () => {
    expect(estimatedRows({ reltuples: 1000, relpages: 10, pages: 10, live: 0 })).toBe(1000);
    // The table doubled since the last ANALYZE.
    expect(estimatedRows({ reltuples: 1000, relpages: 10, pages: 20, live: 1990 })).toBe(2000);
    expect(estimatedRows({ reltuples: -1, relpages: 0, pages: 3, live: 42 })).toBe(42);
    // Analyzed while empty, then filled.
    expect(estimatedRows({ reltuples: 0, relpages: 0, pages: 5, live: 300 })).toBe(300);
    expect(estimatedRows({ reltuples: -1, relpages: 0, pages: 0, live: 0 })).toBe(0);
  });
});

describe('series metrics (the per-request counter and histogram)', () => {
  it("write exactly what prom-client's own Counter and Histogram write for the same requests, in both exposition formats", async () => {
    for (const contentType of [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE] as const) {
      const bounds = [0.001, 0.01, 0.1];
      const ours = new Registry<RegistryContentType>();
      const theirs = new Registry<RegistryContentType>();
      ours.setContentType(contentType);
      theirs.setContentType(contentType);
      const a = newPromSeries({ database: 'mongodb', target: 'orders', operation: 'find' }, bounds);
      const b = newPromSeries({ database: 'postgresql', target: '', operation: '$queryRaw' }, bounds);
      ours.registerMetric(new SeriesCounter('x_requests_total', 'requests', () => [a, b]) as unknown as Metric);
      ours.registerMetric(new SeriesHistogram('x_duration_seconds', 'durations', bounds, () => [a, b]) as unknown as Metric);
      const counter = new Counter({ name: 'x_requests_total', help: 'requests', labelNames: ['database', 'target', 'operation'], registers: [theirs] });
      const histogram = new Histogram({ name: 'x_duration_seconds', help: 'durations', labelNames: ['database', 'target', 'operation'], buckets: bounds, registers: [theirs] });
      const seen: [PromSeries, number][] = [[a, 0.0005], [a, 0.001], [a, 0.05], [a, 3], [b, 0.002], [b, 0.2]];
      for (const [s, seconds] of seen) {
        observeInto(s, bounds, seconds);
        counter.inc(s.labels);
        histogram.observe(s.labels, seconds);
      }
      const text = await ours.metrics();
      expect(text).toBe(await theirs.metrics());
      expect(text.includes('# EOF')).toBe(contentType === Registry.OPENMETRICS_CONTENT_TYPE);
      expect(text).toContain('x_duration_seconds_bucket{le="+Inf",database="mongodb",target="orders",operation="find"} 4');
      ours.resetMetrics();
      theirs.resetMetrics();
      expect(await ours.metrics()).toBe(await theirs.metrics());
    }
  });
});
