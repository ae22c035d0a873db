/**
 * The shapes of `snapshot()`: what the application sees of its own traffic to each database
 * since `instrumentHybrid` started (cumulative; rates over a window are Prometheus' job).
 */

/** The two databases of the hybrid period. */
export type DatabaseName = 'mongodb' | 'postgresql';

/** Response times in milliseconds; null before the first request. */
export interface LatencySnapshot {
  meanMs: number | null;
  /** Within 10% (log buckets), never above `maxMs`. */
  p95Ms: number | null;
  maxMs: number | null;
}

/** One collection (MongoDB) or model (Prisma) and one command or operation. */
export interface OperationSnapshot extends LatencySnapshot {
  /** Collection or Prisma model; '' for a command on the whole database (ping, a raw SQL query). */
  target: string;
  /** MongoDB command name (`find`, `insert`, `getMore`…) or Prisma operation (`findUnique`, `$queryRaw`…). */
  operation: string;
  requests: number;
  errors: number;
  /** errors / requests; null before the first request. */
  errorRate: number | null;
}

/** The size of one collection or table, from the server's statistics. */
export interface VolumeTarget {
  /** Collection (MongoDB) or table (PostgreSQL). */
  target: string;
  /** On-disk size including indexes; null when the server did not say. */
  bytes: number | null;
  /** Documents or rows (an estimate in PostgreSQL); null when the server did not say. */
  records: number | null;
}

export interface VolumeSnapshot {
  /** Sum over the targets; null before the first sample. */
  bytes: number | null;
  records: number | null;
  /** When the last successful sample ended (ISO); null before it. */
  sampledAt: string | null;
  /** Samples that failed (the database down, a permission missing). */
  sampleErrors: number;
  targets: VolumeTarget[];
}

export interface DatabaseSnapshot {
  /** False when `instrumentHybrid` was not given this database. */
  instrumented: boolean;
  /**
   * Whether requests are really seen: `on` once a MongoDB command event arrived (always `on`
   * for Prisma), `unverified` before any, `off` when a volume sample reached MongoDB but no
   * command event came (the client's `monitorCommands` is off: see the README).
   */
  monitoring: 'on' | 'unverified' | 'off';
  requests: number;
  errors: number;
  /** errors / requests; null before the first request. */
  errorRate: number | null;
  latency: LatencySnapshot;
  /** Failed requests by error code (`DuplicateKey`, `P2002`…). */
  errorsByCode: Record<string, number>;
  volume: VolumeSnapshot;
  /** Per collection/model and command/operation, busiest first. */
  operations: OperationSnapshot[];
}

/** How pages of `readCombined` were served. */
export interface CombinedReadCounts {
  /** Pages read. */
  pages: number;
  /** Pages by the databases their items came from (`none`: an empty page). */
  servedBy: { mongodb: number; postgresql: number; both: number; none: number };
  /** Items shown, by the database they came from. */
  items: { mongodb: number; postgresql: number };
  /** MongoDB's share of the items shown (0..1): falls to 0 when the migration is done; null before any item. */
  mongodbShare: number | null;
  /** MongoDB documents skipped because their PostgreSQL row is shown instead. */
  droppedMigrated: number;
}

export interface CombinedReadSnapshot extends CombinedReadCounts {
  /** The same counts per MongoDB collection. */
  collections: Record<string, CombinedReadCounts>;
}

/** Everything `instrumentHybrid` measured since it started. */
export interface HybridSnapshot {
  /** When the instrumentation started (ISO). */
  since: string;
  takenAt: string;
  databases: Record<DatabaseName, DatabaseSnapshot>;
  combinedReads: CombinedReadSnapshot;
}
