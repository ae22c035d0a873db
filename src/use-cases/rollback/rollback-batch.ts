/**
 * One rollback batch, in ONE transaction: lock the batch's rows, re-check them now that the
 * application can no longer change or reference them (a row lock FOR UPDATE conflicts with
 * the FOR KEY SHARE lock every new foreign-key reference takes), then delete, explicitly and
 * child tables first, only what is still the migration's own: no ON DELETE action ever fires.
 * The id_map rows, deferred references and the scope's statuses commit with the deletes, so a
 * killed rollback resumes from a consistent state.
 */
import type pg from 'pg';
import { rowHashLikeSql, rowHashSql, stateTable, type RowHashFormat } from '../../state/schema.js';
import { forgetEntries } from '../../state/registry.js';
import { forgetDeferredOf } from '../../state/deferred-refs.js';
import { joinCondition, migrationChildSql, type ReferencingKey } from './rollback-foreign-keys.js';
import { childRefsOf, ROWS, SCOPE, type ScopeStatus } from './rollback-scope.js';
import type { ChildTarget, RollbackTarget } from './rollback-targets.js';
import { childHashColumnsSql, childHashOf, childRowChange, digestFormats, isMigrationChild, type ChildHashes, type ChildRow } from '../../state/ownership.js';
import { faultPoint } from '../../runtime/fault.js';

export interface BatchCounts {
  deleted: number;
  /** Child rows deleted per table label. */
  children: Record<string, number>;
  gone: number;
  modified: number;
  blocked: number;
  /** References from rows that are rolled back too (a foreign-key cycle's second pass) cleared before the delete. */
  nulled: number;
}

interface Verdict {
  status: ScopeStatus;
  reason: string | null;
}

export async function rollbackBatch(client: pg.ClientBase, target: RollbackTarget, uuids: readonly string[], force: boolean): Promise<BatchCounts> {
  await client.query('BEGIN');
  try {
    const counts = await lockCheckDelete(client, target, uuids, force);
    await client.query('COMMIT');
    return counts;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

async function lockCheckDelete(client: pg.ClientBase, target: RollbackTarget, uuids: readonly string[], force: boolean): Promise<BatchCounts> {
  const verdicts = new Map<string, Verdict>(uuids.map((u) => [u, { status: 'gone', reason: 'no longer in the table' }]));
  const locked = await client.query<{ id: string; hash: string; row_hash: string; child_rows: string | null }>(
    `SELECT t.${target.idColumn}::text AS id, ${rowHashLikeSql('t', 's.row_hash')} AS hash, s.row_hash, s.child_rows
       FROM ${target.table} t JOIN ${SCOPE} s ON s.uuid = t.${target.idColumn}
      WHERE t.${target.idColumn} = ANY($1::uuid[]) ORDER BY t.${target.idColumn} FOR UPDATE OF t`,
    [uuids],
  );
  for (const row of locked.rows) {
    verdicts.set(row.id, force || row.hash === row.row_hash ? { status: 'pending', reason: null } : { status: 'modified', reason: 'changed since it was migrated' });
  }
  const block = (id: string, reason: string) => {
    if (verdicts.get(id)?.status === 'pending') verdicts.set(id, { status: 'blocked', reason });
  };
  const pending = () => [...verdicts].filter(([, v]) => v.status === 'pending').map(([id]) => id);

  const recorded = new Map(locked.rows.filter((r) => r.child_rows !== null).map((r) => [r.id, r.child_rows as string]));
  // Parents whose child rows were recorded in an earlier hash format: theirs are hashed in it too.
  const formats = force ? new Map<string, RowHashFormat>() : digestFormats(recorded);
  const own = await ownChildren(client, target, pending(), block, new Set(formats.values()));
  if (!force) {
    // A document is a unit: one of its child rows changed or deleted by the application keeps all of it.
    const refs = childRefsOf(target);
    const digests = new Map<string, string[]>();
    for (const [i, rows] of own.entries()) {
      for (const row of rows) {
        const list = digests.get(row.parent) ?? [];
        list.push(`${i}.${row.position}.${childHashOf(row, formats.get(row.parent) ?? 'xmin')}`);
        digests.set(row.parent, list);
      }
    }
    for (const id of pending()) {
      const before = recorded.get(id);
      if (before === undefined) continue;
      const change = childRowChange(id, before, (digests.get(id) ?? []).join(' '), refs);
      if (change) verdicts.set(id, { status: 'modified', reason: `${change.kind === 'deleted-by-application' ? 'child row deleted' : 'child row changed'} since it was migrated: ${change.table} ${change.row}` });
    }
  }
  const ownIds = new Set(own.flatMap((rows) => rows.map((r) => r.id)));
  const toNull = await checkReferences(client, target, pending(), ownIds, force, block);

  // Only now is the set final: what was blocked keeps its children and its referencing rows.
  const deletable = pending();
  const keep = new Set(deletable);
  let nulled = 0;
  for (const { key, refs } of toNull) {
    const live = refs.filter((r) => keep.has(r.target)).map((r) => r.ref);
    if (live.length > 0) nulled += await clearReferences(client, key, live);
  }
  const children: Record<string, number> = {};
  for (const [i, child] of target.children.entries()) {
    const ids = (own[i] ?? []).filter((r) => keep.has(r.parent)).map((r) => r.id);
    const r = ids.length > 0 ? await client.query(`DELETE FROM ${child.table} WHERE ${child.idColumn} = ANY($1::uuid[])`, [ids]) : undefined;
    children[child.label] = r?.rowCount ?? 0;
  }
  // The crash tests' kill point: children deleted, parents not yet, nothing committed.
  faultPoint('rollback:mid-batch');
  const deleted = deletable.length > 0 ? await client.query(`DELETE FROM ${target.table} WHERE ${target.idColumn} = ANY($1::uuid[])`, [deletable]) : undefined;
  const gone = [...verdicts].filter(([, v]) => v.status === 'gone').map(([id]) => id);
  const forgotten = [...deletable, ...gone];
  if (forgotten.length > 0) {
    await forgetEntries(client, forgotten);
    await forgetDeferredOf(client, target.collection, forgotten);
  }
  const entries = [...verdicts].map(([id, v]) => ({ id, status: v.status === 'pending' ? 'deleted' : v.status, reason: v.reason }));
  await client.query(
    `UPDATE ${SCOPE} s SET status = x.status, reason = x.reason
       FROM unnest($1::uuid[], $2::text[], $3::text[]) AS x(uuid, status, reason) WHERE s.uuid = x.uuid`,
    [entries.map((e) => e.id), entries.map((e) => e.status), entries.map((e) => e.reason)],
  );
  const count = (s: ScopeStatus) => entries.filter((e) => e.status === s).length;
  return { deleted: deleted?.rowCount ?? 0, children, gone: count('gone'), modified: count('modified'), blocked: count('blocked'), nulled };
}

/** A child row of the migration's, locked, with its hash (and in the earlier formats asked for). */
type OwnChild = ChildRow & ChildHashes;

/** Locks the children of `parents`; a child that is not exactly the migration's blocks its parent. */
async function ownChildren(client: pg.ClientBase, target: RollbackTarget, parents: string[], block: (id: string, reason: string) => void, formats: ReadonlySet<RowHashFormat>): Promise<OwnChild[][]> {
  const out: OwnChild[][] = [];
  for (const child of target.children) {
    const r = parents.length === 0 ? { rows: [] as OwnChild[] } : await client.query<OwnChild>(
      `SELECT c.${child.idColumn}::text AS id, c.${child.parentColumn}::text AS parent, c.${child.positionColumn} AS position, ${childHashColumnsSql('c', formats)}
         FROM ${child.table} c WHERE c.${child.parentColumn} = ANY($1::uuid[]) ORDER BY 1 FOR UPDATE`,
      [parents],
    );
    const own: OwnChild[] = [];
    for (const row of r.rows) {
      if (isMigrationChild(row, child.modelName)) own.push(row);
      else block(row.parent, `has application child rows in ${child.label}`);
    }
    await blockReferencedChildren(client, child, own, block);
    out.push(own);
  }
  return out;
}

/** A row pointing at one of the migration's child rows keeps the parent (its delete would cascade or fail). */
async function blockReferencedChildren(client: pg.ClientBase, child: ChildTarget, own: ChildRow[], block: (id: string, reason: string) => void): Promise<void> {
  if (own.length === 0) return;
  const ownIds = own.map((r) => r.id);
  for (const key of child.referencing) {
    const r = await client.query<{ parent: string; ref: string | null }>(
      `SELECT c.${child.parentColumn}::text AS parent, ${key.idColumn ? `r.${key.idColumn}::text` : 'NULL'} AS ref
         FROM ${child.table} c JOIN ${key.table} r ON ${joinCondition(key, 'r', 'c')} WHERE c.${child.idColumn} = ANY($1::uuid[])`,
      [ownIds],
    );
    const ownSet = new Set(ownIds);
    for (const row of r.rows) if (row.ref === null || !ownSet.has(row.ref)) block(row.parent, `its rows in ${child.label} are referenced by rows of ${key.label}`);
  }
}

interface Reference {
  target: string;
  ref: string;
}

/**
 * Rows referencing the batch: the migration's own children are deleted with it; a pending
 * row of the scope (a cycle's deferred reference) has its reference cleared when the key is
 * nullable; anything else (an application row, a migrated row that stays) blocks.
 */
async function checkReferences(
  client: pg.ClientBase,
  target: RollbackTarget,
  ids: string[],
  ownIds: ReadonlySet<string>,
  force: boolean,
  block: (id: string, reason: string) => void,
): Promise<{ key: ReferencingKey; refs: Reference[] }[]> {
  const toNull: { key: ReferencingKey; refs: Reference[] }[] = [];
  if (ids.length === 0) return toNull;
  for (const key of target.referencing) {
    const pk = key.idColumn;
    const r = await client.query<{ target: string; ref: string | null; scope_status: string | null; migrated: boolean; migrated_child: boolean; unchanged: boolean }>(
      `SELECT t.${target.idColumn}::text AS target, ${pk ? `r.${pk}::text` : 'NULL'} AS ref,
              ${pk ? 's.status' : 'NULL'} AS scope_status, ${pk ? '(m.uuid IS NOT NULL)' : 'false'} AS migrated, ${migrationChildSql(key, 'r')} AS migrated_child,
              ${pk ? `coalesce(${rowHashLikeSql('r', 'm.row_hash')} = m.row_hash, false)` : 'false'} AS unchanged
         FROM ${target.table} t JOIN ${key.table} r ON ${joinCondition(key, 'r', 't')}
         ${pk ? `LEFT JOIN ${SCOPE} s ON s.uuid = r.${pk} LEFT JOIN ${stateTable('id_map')} m ON m.uuid = r.${pk}` : ''}
        WHERE t.${target.idColumn} = ANY($1::uuid[])`,
      [ids],
    );
    const refs: Reference[] = [];
    const columns = key.fromColumns.join(', ').replaceAll('"', '');
    for (const row of r.rows) {
      if (row.ref !== null && ownIds.has(row.ref)) continue;
      const clearable = row.ref !== null && row.scope_status === 'pending' && (row.unchanged || force) && key.nullable && key.fromColumns.length === 1;
      if (clearable) refs.push({ target: row.target, ref: row.ref as string });
      else block(row.target, `referenced by ${ROWS[row.migrated ? 'migrated' : row.migrated_child ? 'migrated child' : 'application']} of ${key.label} (${columns})`);
    }
    if (refs.length > 0) toNull.push({ key, refs });
  }
  return toNull;
}

/** Clears a reference held by rows that are themselves rolled back, and re-records their hash (the change is ours). */
async function clearReferences(client: pg.ClientBase, key: ReferencingKey, refIds: string[]): Promise<number> {
  const pk = key.idColumn as string;
  const column = key.fromColumns[0] as string;
  const r = await client.query(`UPDATE ${key.table} r SET ${column} = NULL WHERE r.${pk} = ANY($1::uuid[])`, [refIds]);
  await client.query(`UPDATE ${stateTable('id_map')} m SET row_hash = ${rowHashSql('r')} FROM ${key.table} r WHERE m.uuid = r.${pk} AND r.${pk} = ANY($1::uuid[])`, [refIds]);
  await client.query(`UPDATE ${SCOPE} s SET row_hash = m.row_hash FROM ${stateTable('id_map')} m WHERE m.uuid = s.uuid AND s.uuid = ANY($1::uuid[])`, [refIds]);
  return r.rowCount ?? 0;
}
