/**
 * Which MongoDB documents already live in PostgreSQL: the application asks the migration's
 * registry (`hybrid_migrate.id_map`) through a connection it already has — a `pg` Pool or
 * Client, or its Prisma client (`$queryRawUnsafe`). Read-only: one indexed lookup per page.
 */
import { REGISTRY_LOOKUP_SQL } from '../state/registry-lookup.js';

/** A `pg` Pool or Client (or anything with the same `query`). */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** A Prisma client: `$queryRawUnsafe` runs the lookup on the application's own connection pool. */
export interface PrismaRawQueryable {
  $queryRawUnsafe(query: string, ...values: unknown[]): Promise<unknown>;
}

/**
 * Where the registry is read. A read-only role is enough: `GRANT USAGE ON SCHEMA
 * hybrid_migrate TO app; GRANT SELECT ON hybrid_migrate.id_map TO app;`.
 */
export type RegistryConnection = PgQueryable | PrismaRawQueryable;

const LOOKUP = REGISTRY_LOOKUP_SQL;

/** The subset of `uuids` that the migration has written to PostgreSQL. Before the first migration (no registry yet): none. */
export async function migratedIds(registry: RegistryConnection, uuids: readonly string[]): Promise<Set<string>> {
  if (uuids.length === 0) return new Set();
  try {
    const rows = '$queryRawUnsafe' in registry ? ((await registry.$queryRawUnsafe(LOOKUP, [...uuids])) as { uuid: string }[]) : ((await registry.query(LOOKUP, [[...uuids]])).rows as { uuid: string }[]);
    return new Set(rows.map((r) => r.uuid.toLowerCase()));
  } catch (e) {
    if (isMissingRegistry(e)) return new Set();
    throw e;
  }
}

/** The registry table does not exist yet (42P01), as pg and Prisma report it. */
function isMissingRegistry(e: unknown): boolean {
  const err = e as { code?: unknown; meta?: { code?: unknown; message?: unknown }; message?: unknown; cause?: unknown };
  if (err?.code === '42P01' || err?.meta?.code === '42P01') return true;
  const text = `${String(err?.message ?? '')} ${String(err?.meta?.message ?? '')}`;
  if (/42P01/.test(text) || /relation "hybrid_migrate\.id_map" does not exist/.test(text) || /hybrid_migrate\.id_map.*does not exist/i.test(text)) return true;
  return err?.cause !== undefined && err.cause !== e ? isMissingRegistry(err.cause) : false;
}
