/**
 * The rollback's working set: the id_map rows in scope (collections, optionally one run),
 * copied into a session-local temporary table with a status each. Before anything is
 * deleted, rows the application changed are set aside, and then, until nothing changes,
 * every row still referenced by a row that stays (an application row, a migrated row of a
 * collection not rolled back, or a row kept in the previous round) is marked blocked. The
 * result is the plan (what --dry-run shows); each batch re-checks it under row locks.
 *
 * The table lives and dies with the session (the connection is closed at the end), so the
 * rollback never issues DROP.
 */
import type pg from 'pg';
import { rowHashLikeSql, stateTable } from '../../state/schema.js';
import { joinCondition, migrationChildSql, type ReferencingKey } from './rollback-foreign-keys.js';
import type { RollbackTarget } from './rollback-targets.js';
import { childRowChange, childRowsDigest, isMigrationChild, digestFormats, type ChildRow, type ChildTableRef } from '../../state/ownership.js';

export const SCOPE = 'pg_temp.hm_rollback_scope';

/** Status of a row in scope. `pending` rows are the ones to delete. */
export type ScopeStatus = 'pending' | 'deleted' | 'gone' | 'modified' | 'blocked';

export async function createScope(client: pg.ClientBase, collections: readonly string[], runId: string | undefined): Promise<void> {
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS hm_rollback_scope (
      uuid uuid PRIMARY KEY, collection text NOT NULL, source_key text NOT NULL, row_hash text NOT NULL, child_rows text,
      status text NOT NULL DEFAULT 'pending', reason text)`);
  await client.query(`DELETE FROM ${SCOPE}`);
  await client.query(
    `INSERT INTO ${SCOPE} (uuid, collection, source_key, row_hash, child_rows)
     SELECT uuid, collection, source_key, row_hash, child_rows FROM ${stateTable('id_map')}
      WHERE collection = ANY($1::text[]) AND ($2::uuid IS NULL OR run_id = $2::uuid)`,
    [collections, runId ?? null],
  );
  await client.query(`ANALYZE ${SCOPE}`);
}

/** Marks rows already deleted by the application (`gone`) and rows it changed (`modified`, unless force). */
export async function classifyRows(client: pg.ClientBase, target: RollbackTarget, force: boolean): Promise<void> {
  await client.query(
    `UPDATE ${SCOPE} s SET status = 'gone', reason = 'no longer in the table'
      WHERE s.collection = $1 AND s.status = 'pending' AND NOT EXISTS (SELECT 1 FROM ${target.table} t WHERE t.${target.idColumn} = s.uuid)`,
    [target.collection],
  );
  if (force) return;
  await client.query(
    `UPDATE ${SCOPE} s SET status = 'modified', reason = 'changed since it was migrated'
       FROM ${target.table} t
      WHERE s.collection = $1 AND s.status = 'pending' AND t.${target.idColumn} = s.uuid AND ${rowHashLikeSql('t', 's.row_hash')} <> s.row_hash`,
    [target.collection],
  );
  await classifyChildRows(client, target);
}

/** The rollback target's child tables as the owned-rows rule reads them. */
export function childRefsOf(target: RollbackTarget): ChildTableRef[] {
  return target.children.map((c) => ({ table: c.table, tableName: c.label, idColumn: c.idColumn, parentColumn: c.parentColumn, positionColumn: c.positionColumn, modelName: c.modelName }));
}

/** A document is a unit: a pending row whose child rows the application changed or deleted is `modified` too, naming the row. */
async function classifyChildRows(client: pg.ClientBase, target: RollbackTarget, pageSize = 5000): Promise<void> {
  if (target.children.length === 0) return;
  const refs = childRefsOf(target);
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const page = await client.query<{ uuid: string; child_rows: string }>(
      `SELECT uuid::text AS uuid, child_rows FROM ${SCOPE} WHERE collection = $1 AND status = 'pending' AND child_rows IS NOT NULL AND uuid > $2::uuid ORDER BY uuid LIMIT $3`,
      [target.collection, after, pageSize],
    );
    if (page.rows.length === 0) return;
    after = (page.rows[page.rows.length - 1] as { uuid: string }).uuid;
    const current = await childRowsDigest(client, refs, page.rows.map((r) => r.uuid), digestFormats(page.rows.map((r) => [r.uuid, r.child_rows])));
    const ids: string[] = [];
    const reasons: string[] = [];
    for (const row of page.rows) {
      const change = childRowChange(row.uuid, row.child_rows, current.get(row.uuid) ?? '', refs);
      if (!change) continue;
      ids.push(row.uuid);
      reasons.push(`${change.kind === 'deleted-by-application' ? 'child row deleted' : 'child row changed'} since it was migrated: ${change.table} ${change.row}`);
    }
    if (ids.length > 0) {
      await client.query(
        `UPDATE ${SCOPE} s SET status = 'modified', reason = x.reason FROM unnest($1::uuid[], $2::text[]) AS x(uuid, reason) WHERE s.uuid = x.uuid AND s.status = 'pending'`,
        [ids, reasons],
      );
    }
  }
}

/**
 * Blocks the pending rows that have a child row the migration did not write (checked exactly:
 * childUuid of parent and position), reading the children once, page by page.
 */
export async function blockForeignChildren(client: pg.ClientBase, target: RollbackTarget, pageSize = 5000): Promise<void> {
  if (target.children.length === 0) return;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const page = await client.query<{ uuid: string }>(
      `SELECT uuid::text AS uuid FROM ${SCOPE} WHERE collection = $1 AND status = 'pending' AND uuid > $2::uuid ORDER BY uuid LIMIT $3`,
      [target.collection, after, pageSize],
    );
    const parents = page.rows.map((r) => r.uuid);
    if (parents.length === 0) return;
    after = parents[parents.length - 1] as string;
    for (const child of target.children) {
      const rows = await client.query<ChildRow>(
        `SELECT c.${child.idColumn}::text AS id, c.${child.parentColumn}::text AS parent, c.${child.positionColumn} AS position
           FROM ${child.table} c WHERE c.${child.parentColumn} = ANY($1::uuid[])`,
        [parents],
      );
      const foreign = [...new Set(rows.rows.filter((row) => !isMigrationChild(row, child.modelName)).map((row) => row.parent))];
      if (foreign.length === 0) continue;
      await client.query(`UPDATE ${SCOPE} SET status = 'blocked', reason = $2 WHERE uuid = ANY($1::uuid[]) AND status = 'pending'`, [
        foreign,
        `has application child rows in ${child.label}`,
      ]);
    }
  }
}

/**
 * SQL condition "referencing row r stays": it is not a pending row of the scope. For a
 * child table's parent key, children with a UUIDv5 id are presumed the migration's (the
 * batch verifies the exact childUuid), so they do not block their parent here.
 */
function staysCondition(key: ReferencingKey, presumedOwnChildId: string | undefined, childOfScope?: { idColumn: string; parentColumn: string }): string {
  const parts: string[] = [];
  if (key.idColumn) parts.push(`NOT EXISTS (SELECT 1 FROM ${SCOPE} s2 WHERE s2.uuid = r.${key.idColumn} AND s2.status = 'pending')`);
  if (presumedOwnChildId) parts.push(`substr(r.${presumedOwnChildId}::text, 15, 1) <> '5'`);
  // A child row of a collection in this rollback (order_items pointing at a product), presumed the
  // migration's (v5; the batch checks childUuid exactly) and under a parent that is deleted: it goes
  // first (children before parents, referencing collections before referenced ones), so it does not stay.
  if (childOfScope) {
    parts.push(
      `NOT (substr(r.${childOfScope.idColumn}::text, 15, 1) = '5' AND EXISTS (SELECT 1 FROM ${SCOPE} s3 WHERE s3.uuid = r.${childOfScope.parentColumn} AND s3.status = 'pending'))`,
    );
  }
  return parts.length > 0 ? parts.join(' AND ') : 'true';
}

/** How a rollback names the rows that keep a row: the application's, the migration's registered rows, its child rows of another collection. */
export const ROWS = { application: 'application rows', migrated: 'migrated rows that stay', 'migrated child': 'migrated child rows that stay' } as const;

/** SQL condition: the referencing row r is the application's, a registered migrated row, or a migration child row of another collection. */
function whoseCondition(key: ReferencingKey, who: keyof typeof ROWS): string {
  if (who === 'migrated child') return migrationChildSql(key, 'r');
  if (!key.idColumn) return who === 'migrated' ? 'false' : 'true';
  const registered = `EXISTS (SELECT 1 FROM ${stateTable('id_map')} m WHERE m.uuid = r.${key.idColumn})`;
  return who === 'migrated' ? registered : `NOT ${registered} AND NOT ${migrationChildSql(key, 'r')}`;
}

/** One round over every key into every target; returns how many rows it blocked. */
async function blockRound(client: pg.ClientBase, targets: readonly RollbackTarget[]): Promise<number> {
  let blocked = 0;
  // The child tables of the collections rolled back: their rows go with their parents.
  const childTables = new Map(targets.flatMap((tg) => tg.children.map((c) => [c.table, { idColumn: c.idColumn, parentColumn: c.parentColumn }] as const)));
  for (const target of targets) {
    const keys: { key: ReferencingKey; ownChildId: string | undefined; what: string }[] = [];
    for (const key of target.referencing) keys.push({ key, ownChildId: undefined, what: 'referenced by' });
    target.parentKeys.forEach((key, i) => {
      const child = target.children[i];
      if (key && child) keys.push({ key, ownChildId: child.idColumn, what: 'has child rows in' });
    });
    for (const { key, ownChildId, what } of keys) {
      // Child rows are never in id_map: under a parent they are the migration's (v5) or the application's.
      for (const who of ownChildId ? (['application'] as const) : (['application', 'migrated', 'migrated child'] as const)) {
        if (who === 'migrated child' && !key.childOf) continue;
        const reason = ownChildId ? `has application child rows in ${key.label}` : `${what} ${ROWS[who]} of ${key.label} (${key.fromColumns.join(', ').replaceAll('"', '')})`;
        const r = await client.query(
          `UPDATE ${SCOPE} s SET status = 'blocked', reason = $2
            WHERE s.collection = $1 AND s.status = 'pending' AND EXISTS (
              SELECT 1 FROM ${target.table} t JOIN ${key.table} r ON ${joinCondition(key, 'r', 't')}
               WHERE t.${target.idColumn} = s.uuid AND ${staysCondition(key, ownChildId, ownChildId ? undefined : childTables.get(key.table))} AND ${whoseCondition(key, who)})`,
          [target.collection, reason],
        );
        blocked += r.rowCount ?? 0;
      }
    }
    // Rows pointing at the migration's own child rows keep the parent too.
    for (const child of target.children) {
      for (const key of child.referencing) {
        const r = await client.query(
          `UPDATE ${SCOPE} s SET status = 'blocked', reason = $2
            WHERE s.collection = $1 AND s.status = 'pending' AND EXISTS (
              SELECT 1 FROM ${child.table} c JOIN ${key.table} r ON ${joinCondition(key, 'r', 'c')}
               WHERE c.${child.parentColumn} = s.uuid AND ${staysCondition(key, undefined)})`,
          [target.collection, `its rows in ${child.label} are referenced by rows of ${key.label}`],
        );
        blocked += r.rowCount ?? 0;
      }
    }
  }
  return blocked;
}

/** Blocks, until a fixpoint, every pending row referenced by a row that stays. */
export async function blockReferencedRows(client: pg.ClientBase, targets: readonly RollbackTarget[]): Promise<void> {
  for (let round = 0; round < 1000; round++) {
    if ((await blockRound(client, targets)) === 0) return;
  }
}

/** Counts per status for a collection. */
export async function scopeCounts(client: pg.ClientBase, collection: string): Promise<Record<ScopeStatus, number>> {
  const r = await client.query<{ status: ScopeStatus; n: number }>(`SELECT status, count(*)::int AS n FROM ${SCOPE} WHERE collection = $1 GROUP BY status`, [collection]);
  const out: Record<ScopeStatus, number> = { pending: 0, deleted: 0, gone: 0, modified: 0, blocked: 0 };
  for (const row of r.rows) out[row.status] = row.n;
  return out;
}

/** A row shown in the report. */
export interface RollbackSample {
  sourceKey: string;
  uuid: string;
  reason?: string;
}

export async function scopeSamples(client: pg.ClientBase, collection: string, status: ScopeStatus, limit: number): Promise<RollbackSample[]> {
  const r = await client.query<{ source_key: string; uuid: string; reason: string | null }>(
    `SELECT source_key, uuid::text AS uuid, reason FROM ${SCOPE} WHERE collection = $1 AND status = $2 ORDER BY uuid LIMIT $3`,
    [collection, status, limit],
  );
  return r.rows.map((row) => ({ sourceKey: row.source_key, uuid: row.uuid, ...(row.reason && status !== 'pending' && status !== 'deleted' ? { reason: row.reason } : {}) }));
}

/** Blocked rows per reason, for the report. */
export async function blockedReasons(client: pg.ClientBase, collection: string): Promise<Record<string, number>> {
  const r = await client.query<{ reason: string; n: number }>(
    `SELECT reason, count(*)::int AS n FROM ${SCOPE} WHERE collection = $1 AND status = 'blocked' GROUP BY reason ORDER BY n DESC`,
    [collection],
  );
  return Object.fromEntries(r.rows.map((row) => [row.reason, row.n]));
}

/** Dry run: child rows that would go with the pending rows (all theirs: a pending row has no child the migration did not write). */
export async function pendingChildCounts(client: pg.ClientBase, target: RollbackTarget): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const child of target.children) {
    const r = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${child.table} c JOIN ${SCOPE} s ON s.uuid = c.${child.parentColumn}
        WHERE s.collection = $1 AND s.status = 'pending'`,
      [target.collection],
    );
    out[child.label] = r.rows[0]?.n ?? 0;
  }
  return out;
}
