/**
 * The one statement the application itself runs on the migration's state (readCombined, through
 * the application's own connection): which of these UUIDs the migration wrote. Kept apart from
 * ./registry.ts so the in-application helpers import no more than this string.
 */
export const REGISTRY_LOOKUP_SQL = 'SELECT uuid::text AS uuid FROM "hybrid_migrate"."id_map" WHERE uuid = ANY($1::uuid[])';
