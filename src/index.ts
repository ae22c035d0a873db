/**
 * The library entry point (`import { … } from 'hybrid-migrate'`): the configuration helper
 * and its types for `hybrid-migrate.config.ts`, and the ObjectId→UUID functions the
 * application can use to find a migrated record by its old id, and the hybrid-mode helpers
 * (combined reads that never duplicate a migrated record, the extended health check).
 */
export { defineConfig } from './config/define-config.js';
export type {
  ChildMapping,
  CollectionConfig,
  FieldMapping,
  FieldSetting,
  HybridMigrateConfig,
  InvalidValuePolicy,
  MissingReferencePolicy,
  SourceDocument,
} from './config/define-config.js';
export { idToUuid, objectIdToUuid, uuidToObjectId } from './core/ids.js';

// Hybrid-mode helpers for the application during Phase 2 (see README, "In the application").
export { readCombined } from './hybrid-mode/combined-read.js';
export type { CombinedPage, CombinedReadOptions, PrismaDelegateLike } from './hybrid-mode/combined-read.js';
export { InvalidCursorError } from './hybrid-mode/combined-order.js';
export type { SortDirection } from './hybrid-mode/combined-order.js';
export type { MongoReadable, MongooseModelLike, NativeCollectionLike } from './hybrid-mode/mongo-readable.js';
export { migratedIds } from './hybrid-mode/registry.js';
export type { PgQueryable, PrismaRawQueryable, RegistryConnection } from './hybrid-mode/registry.js';
export { healthCheck } from './hybrid-mode/health-check.js';
export type { HealthCheckOptions, HealthCheckResult, MongoPingable } from './hybrid-mode/health-check.js';
export { instrumentHybrid } from './hybrid-mode/instrument.js';
export type { HybridInstrumentation, InstrumentHybridOptions, VolumeSamplingOptions } from './hybrid-mode/instrument.js';
export { HybridInstrumentationError } from './hybrid-mode/mongo-command-monitor.js';
export type { MongoInstrumentable, MongooseConnectionLike, MonitorableMongoClient } from './hybrid-mode/mongo-command-monitor.js';
export type { ExtendablePrismaClient } from './hybrid-mode/prisma-query-monitor.js';
export type { CombinedReadObservation } from './hybrid-mode/hybrid-metrics.js';
export type {
  CombinedReadCounts,
  CombinedReadSnapshot,
  DatabaseName,
  DatabaseSnapshot,
  HybridSnapshot,
  LatencySnapshot,
  OperationSnapshot,
  VolumeSnapshot,
  VolumeTarget,
} from './hybrid-mode/hybrid-snapshot.js';
