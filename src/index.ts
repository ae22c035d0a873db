/**
 * The library entry point (`import { … } from 'hybrid-migrate'`): the configuration helper
 * and its types for `hybrid-migrate.config.ts`, and the ObjectId→UUID functions the
 * application can use to find a migrated record by its old id.
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
