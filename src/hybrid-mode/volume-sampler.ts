/**
 * Data volume per database, from statistics the servers already keep — never a scan or a
 * `count(*)`:
 * - MongoDB: `listCollections` (names only) and `collStats` per collection (document count
 *   and sizes from the storage engine's metadata);
 * - PostgreSQL: `pg_total_relation_size` (table, TOAST and indexes: a stat of their files)
 *   and the planner's own row estimate — the rows per page of the last ANALYZE
 *   (`pg_class.reltuples / relpages`) times the table's pages now, so it follows growth
 *   between two autovacuum runs; `n_live_tup` of the statistics for a table never analyzed.
 * Sampled on the application's schedule by timers that never keep the process alive.
 */
import type { VolumeTarget } from './hybrid-snapshot.js';
import { nameLabel } from './metric-labels.js';
import { SAMPLER_COMMENT } from './mongo-command-monitor.js';
import type { PgQueryable, PrismaRawQueryable } from './registry.js';

/** The part of a driver `Db` the sampler uses. */
export interface MongoStatsDb {
  command(command: Record<string, unknown>): Promise<Record<string, unknown>>;
  listCollections(filter: Record<string, unknown>, options: { nameOnly: true; comment: string }): { toArray(): Promise<{ name: string; type?: string }[]> };
}

/** One `collStats` per collection (all but `system.*` and views, or the ones named). */
export async function sampleMongoVolume(db: MongoStatsDb, collections?: readonly string[]): Promise<VolumeTarget[]> {
  const names = collections ?? (await db.listCollections({}, { nameOnly: true, comment: SAMPLER_COMMENT }).toArray())
    .filter((c) => (c.type ?? 'collection') === 'collection' && !c.name.startsWith('system.'))
    .map((c) => c.name);
  const targets: VolumeTarget[] = [];
  for (const name of [...names].sort()) {
    try {
      const s = await db.command({ collStats: name, comment: SAMPLER_COMMENT });
      const total = num(s.totalSize) ?? sumKnown(num(s.storageSize), num(s.totalIndexSize));
      targets.push({ target: nameLabel(name), bytes: total, records: num(s.count) });
    } catch {
      // Refused for this one (a permission, dropped meanwhile): its volume is unknown, the others still count.
      targets.push({ target: nameLabel(name), bytes: null, records: null });
    }
  }
  return targets;
}

const PG_VOLUME = `
SELECT c.relname::text AS name,
       pg_total_relation_size(c.oid)::float8 AS bytes,
       (pg_relation_size(c.oid) / current_setting('block_size')::float8) AS pages,
       c.relpages::float8 AS relpages,
       c.reltuples::float8 AS reltuples,
       COALESCE(s.n_live_tup, 0)::float8 AS live
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
 WHERE c.relkind = 'r' AND n.nspname = current_schema() AND c.relname <> '_prisma_migrations'`;

interface PgVolumeRow {
  name: string;
  bytes: number;
  pages: number;
  relpages: number;
  reltuples: number;
  live: number;
}

/** Every table of the current schema (the application's: Prisma's `public` by default), or the ones named. */
export async function samplePostgresVolume(pg: PgQueryable | PrismaRawQueryable, tables?: readonly string[]): Promise<VolumeTarget[]> {
  const sql = tables ? `${PG_VOLUME} AND c.relname = ANY($1::text[]) ORDER BY 1` : `${PG_VOLUME} ORDER BY 1`;
  const params = tables ? [[...tables]] : [];
  const rows = ('$queryRawUnsafe' in pg ? await pg.$queryRawUnsafe(sql, ...params) : (await pg.query(sql, params)).rows) as PgVolumeRow[];
  return rows.map((r) => ({ target: nameLabel(r.name), bytes: Number(r.bytes), records: estimatedRows(r) }));
}

/** As the planner estimates it (estimate_rel_size); reltuples is -1 before the first ANALYZE. */
export function estimatedRows(r: Pick<PgVolumeRow, 'pages' | 'relpages' | 'reltuples' | 'live'>): number {
  const [pages, relpages, reltuples] = [Number(r.pages), Number(r.relpages), Number(r.reltuples)];
  if (reltuples >= 0 && relpages > 0) return Math.round((reltuples / relpages) * pages);
  return Math.max(0, Number(r.live));
}

function num(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : v && typeof v === 'object' && 'toNumber' in v ? (v as { toNumber(): number }).toNumber() : NaN;
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function sumKnown(a: number | null, b: number | null): number | null {
  return a === null && b === null ? null : (a ?? 0) + (b ?? 0);
}

/** Runs `sample` now and then `intervalMs` after each one ends (never two at once); `stop()` ends it. */
export class SampleSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly sample: () => Promise<void>,
  ) {}

  start(): void {
    this.tick();
  }

  /** Stops the schedule and waits for a sample in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.stopped) return;
    // `sample` records its own failures; nothing may escape as an unhandled rejection.
    this.running = this.sample()
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        this.timer = setTimeout(() => this.tick(), this.intervalMs);
        this.timer.unref();
      });
  }
}
