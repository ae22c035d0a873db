/**
 * `migrate --incremental --detect-deletes`: compares the id sets of MongoDB and of the
 * registry, both ways, in one ordered pass over MongoDB's ids (see compareObjectIds).
 * - A migrated document that no longer exists in MongoDB: its row (and the child rows the
 *   migration wrote) is deleted, or marked in a DateTime field per configuration — unless the
 *   application changed the row since, or other rows reference it: then it is kept and reported.
 * - A source document the registry does not know (inserted late with an old _id and no
 *   updatedAt, so no cursor could see it) and that was never rejected: it is migrated now.
 */
import type { Document } from 'mongodb';
import { ObjectId } from 'mongodb';
import type pg from 'pg';
import type { MappedCollection } from '../../core/mapping.js';
import { objectIdToUuid, sourceIdKey } from '../../core/ids.js';
import { qualifiedTable, quoteIdent, type PrismaSchema } from '../../schema/prisma-schema.js';
import { writePlanFor, type WritePlan } from '../../target/batch-writer.js';
import { analyzeRegistry, forgetEntries, knownSourceKeys, objectIdEntriesBetween, otherIdEntriesAfter } from '../../state/registry.js';
import { changedDocuments, isMigrationChild, refreshRowHashes, unchangedOwnedRows, type DocumentChange } from '../../state/ownership.js';
import { recordConflicts } from '../../state/conflicts.js';
import { processBatch, type BatchContext } from '../../pipeline/batch-pipeline.js';
import { withTransaction } from '../../target/transaction.js';
import { idOfSourceKey } from '../../pipeline/source-keys.js';

const PAGE = 5000;

export async function detectDeletes(collection: MappedCollection, schema: PrismaSchema, ctx: BatchContext): Promise<void> {
  const plan = writePlanFor(collection);
  if (!ctx.dryRun) await analyzeRegistry(ctx.pool);
  await compareObjectIds(collection, schema, plan, ctx);
  if (!ctx.signal.aborted) await removeDeletedOtherIds(collection, schema, plan, ctx);
}

const MIN_UUID = '00000000-0000-0000-0000-000000000000';
const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/**
 * Both directions in one pass over MongoDB's `_id`s in order (a single index scan, or a single
 * collection scan where the server cannot push `$in` down, as FerretDB cannot), merged with
 * the registry in UUID order, which is ObjectId order:
 * - each page of source ids not in the registry (nor rejected) is migrated;
 * - registry ObjectId entries between the previous page's last id and this page's last id
 *   that the page does not hold are documents deleted in MongoDB.
 */
async function compareObjectIds(collection: MappedCollection, schema: PrismaSchema, plan: WritePlan, ctx: BatchContext): Promise<void> {
  const cursor = ctx.db.collection(collection.name).find({}, { projection: { _id: 1 }, sort: { _id: 1 }, batchSize: PAGE });
  let lower = MIN_UUID;
  try {
    let ids: unknown[] = [];
    const flush = async (final: boolean) => {
      const page = ids;
      ids = [];
      await migrateUnknown(collection, plan, ctx, page);
      if (ctx.signal.aborted) return;
      const oids = page.filter((id): id is ObjectId => id instanceof ObjectId).map((id) => objectIdToUuid(id));
      // ObjectIds sort together, between numbers and strings before and dates after: a page
      // covers the registry up to its last ObjectId; the last page covers everything above.
      const upper = final ? MAX_UUID : (oids[oids.length - 1] ?? lower);
      lower = await removeGoneInRange(collection, schema, plan, ctx, lower, upper, new Set(oids));
    };
    for await (const d of cursor) {
      ids.push(d._id);
      if (ids.length >= PAGE) {
        await flush(false);
        if (ctx.signal.aborted) return;
      }
    }
    await flush(true);
  } finally {
    await cursor.close().catch(() => undefined);
  }
}

/** Registry ObjectId entries in (lower, upper] not in `present`: removed. Returns the new lower bound. */
async function removeGoneInRange(
  collection: MappedCollection,
  schema: PrismaSchema,
  plan: WritePlan,
  ctx: BatchContext,
  lower: string,
  upper: string,
  present: ReadonlySet<string>,
): Promise<string> {
  let after = lower;
  while (after < upper) {
    if (ctx.signal.aborted) return after;
    const page = await objectIdEntriesBetween(ctx.pool, collection.name, after, upper, PAGE);
    if (page.length === 0) return upper;
    const gone = page.filter((r) => !present.has(r.uuid));
    if (gone.length > 0 && !ctx.dryRun) await removeRows(collection, schema, plan, ctx, gone);
    else if (gone.length > 0) ctx.stats.deletedInSource += gone.length;
    after = (page[page.length - 1] as { uuid: string }).uuid;
    if (page.length < PAGE) return upper;
  }
  return upper;
}

/** Registry entries of non-ObjectId ids (strings, numbers, binary UUIDs, dates, compound documents…) checked by `$in`, page by page. */
async function removeDeletedOtherIds(collection: MappedCollection, schema: PrismaSchema, plan: WritePlan, ctx: BatchContext): Promise<void> {
  let after = MIN_UUID;
  for (;;) {
    if (ctx.signal.aborted) return;
    const page = await otherIdEntriesAfter(ctx.pool, collection.name, after, PAGE);
    if (page.length === 0) return;
    after = (page[page.length - 1] as { uuid: string }).uuid;
    const queryable = page.flatMap((r) => {
      const id = idOfSourceKey(r.source_key);
      return id ? [{ ...r, id: id.id }] : [];
    });
    const present = new Set<string>();
    const found = await ctx.db.collection(collection.name).find({ _id: { $in: queryable.map((r) => r.id) } } as Document, { projection: { _id: 1 } }).toArray();
    for (const d of found) present.add(sourceIdKey(d._id));
    const gone = queryable.filter((r) => !present.has(r.source_key));
    if (gone.length > 0 && !ctx.dryRun) await removeRows(collection, schema, plan, ctx, gone);
    else if (gone.length > 0) ctx.stats.deletedInSource += gone.length;
  }
}

/**
 * Every source `_id`, in order, compared with the registry a page at a time: the documents it
 * does not know (and that were never rejected) are migrated. The plain sync's way to find new
 * documents whose `_id` is no ObjectId (strings, numbers, dates), which no high-water mark can
 * order against the migrated ones; --detect-deletes does the same in its own pass.
 */
export async function migrateUnknownIds(collection: MappedCollection, ctx: BatchContext): Promise<void> {
  const plan = writePlanFor(collection);
  const cursor = ctx.db.collection(collection.name).find({}, { projection: { _id: 1 }, sort: { _id: 1 }, batchSize: PAGE });
  try {
    let ids: unknown[] = [];
    for await (const d of cursor) {
      ids.push(d._id);
      if (ids.length >= PAGE) {
        await migrateUnknown(collection, plan, ctx, ids);
        ids = [];
        if (ctx.signal.aborted) return;
      }
    }
    await migrateUnknown(collection, plan, ctx, ids);
  } finally {
    await cursor.close().catch(() => undefined);
  }
}

/**
 * Whether the collection holds an `_id` that is no ObjectId. The `_id` index orders BSON types
 * (numbers and strings before ObjectIds, dates after): the lowest and the highest `_id` tell.
 */
export async function hasOtherIdTypes(db: BatchContext['db'], collection: string): Promise<boolean> {
  for (const direction of [1, -1] as const) {
    const first = await db.collection(collection).find({}, { projection: { _id: 1 }, sort: { _id: direction }, limit: 1 }).toArray();
    const id = first[0]?._id;
    if (id !== undefined && !(id instanceof ObjectId)) return true;
  }
  return false;
}

/** Removes (or marks) the rows of documents deleted in MongoDB, in one transaction per page. */
async function removeRows(collection: MappedCollection, schema: PrismaSchema, plan: WritePlan, ctx: BatchContext, gone: { source_key: string; uuid: string }[]): Promise<void> {
  const uuids = gone.map((g) => g.uuid);
  const { removed, kept, overwritten } = await withTransaction(ctx.pool, async (client) => {
    // This run changes something: its record commits with the change.
    await ctx.beforeWrite?.(client);
    // Rows the application changed since migration: kept, unless the collection says 'overwrite'
    // (then they go too, and each is recorded as overwritten, never silently).
    const overwrite = collection.onConflict === 'overwrite';
    const removable = new Set(await unchangedOwnedRows(client, plan.main.table, plan.main.idColumn, uuids, false));
    const changedByApp: DocumentChange[] = [];
    for (const g of gone) {
      if (!removable.has(g.uuid)) changedByApp.push({ sourceKey: g.source_key, uuid: g.uuid, kind: 'modified-by-application', table: plan.main.model.table, row: g.uuid });
    }
    if (plan.children.length > 0) {
      // A document is a unit: one of its child rows changed or deleted by the application keeps all of it.
      const target = { collection: collection.name, table: plan.main.table, tableName: plan.main.model.table, idColumn: plan.main.idColumn };
      const changed = await changedDocuments(client, target, plan.childRefs, gone.filter((g) => removable.has(g.uuid)).map((g) => g.source_key));
      for (const c of changed.values()) {
        removable.delete(c.uuid);
        changedByApp.push(c);
      }
    }
    // Only a main row still there is overwritten (one the application deleted stays deleted, kept as before).
    const overwritten = overwrite ? changedByApp : [];
    if (overwrite) {
      const present = new Set(await unchangedOwnedRows(client, plan.main.table, plan.main.idColumn, overwritten.map((c) => c.uuid), true));
      for (const c of overwritten) if (present.has(c.uuid)) removable.add(c.uuid);
    }
    // Rows still referenced by other rows (the application's or other migrated ones): kept. A
    // mark deletes nothing, so it never breaks a reference: the referenced product of an order
    // history is marked like any other (that is what a soft delete is for).
    if (collection.onSourceDelete.mode !== 'mark') {
      for (const id of await referencedIds(client, collection, schema, plan, [...removable])) removable.delete(id);
    }
    const ids = [...removable];
    if (collection.onSourceDelete.mode === 'mark') {
      const column = quoteIdent(collection.model.columnsByField.get(collection.onSourceDelete.field)?.column ?? collection.onSourceDelete.field);
      await client.query(`UPDATE ${plan.main.table} SET ${column} = now() WHERE ${plan.main.idColumn} = ANY($1::uuid[]) AND ${column} IS NULL`, [ids]);
      await refreshRowHashes(client, plan.main.table, plan.main.idColumn, ids, { forgetSourceHash: true });
    } else {
      for (const child of plan.children) {
        const rows = await client.query<{ id: string; parent: string; position: number }>(
          `SELECT ${child.idColumn}::text AS id, ${child.parentColumn}::text AS parent, ${child.positionColumn} AS position FROM ${child.table} WHERE ${child.parentColumn} = ANY($1::uuid[])`,
          [ids],
        );
        const ours = rows.rows.filter((r) => isMigrationChild(r, child.model.name)).map((r) => r.id);
        await client.query(`DELETE FROM ${child.table} WHERE ${child.idColumn} = ANY($1::uuid[])`, [ours]);
      }
      await client.query(`DELETE FROM ${plan.main.table} WHERE ${plan.main.idColumn} = ANY($1::uuid[])`, [ids]);
      await forgetEntries(client, ids);
    }
    const kept = gone.filter((g) => !removable.has(g.uuid));
    await recordConflicts(client, collection.name, ctx.runId, 'deleted-in-source-but-kept', kept.map((k) => ({ sourceKey: k.source_key, uuid: k.uuid })));
    const replaced = overwritten.filter((c) => removable.has(c.uuid));
    for (const kind of ['modified-by-application', 'deleted-by-application'] as const) {
      await recordConflicts(client, collection.name, ctx.runId, kind, replaced.filter((c) => c.kind === kind), 'overwritten');
    }
    return { removed: ids.length, kept: kept.length, overwritten: replaced.length };
  });
  ctx.stats.deletedInSource += removed;
  ctx.stats.deleteBlocked += kept;
  ctx.stats.overwritten += overwritten;
}

/**
 * Ids among `ids` that some row references through a foreign key (the collection's own child
 * rows excepted). A foreign key may reference another unique column than the id
 * (`@relation(fields: [accountNumber], references: [accountId])`): rows are matched on the
 * referenced column's value, read from the rows about to go.
 */
async function referencedIds(client: pg.PoolClient, collection: MappedCollection, schema: PrismaSchema, plan: WritePlan, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const ownChildren = new Set(collection.children.map((c) => c.model.name));
  const out = new Set<string>();
  for (const model of schema.models.values()) {
    for (const rel of model.relations) {
      if (rel.targetModel !== collection.model.name || rel.fromFields.length !== 1) continue;
      const fk = model.columnsByField.get(rel.fromFields[0] as string);
      if (!fk) continue;
      const referencedField = rel.toFields[0] ?? collection.model.idField;
      const referenced = quoteIdent(collection.model.columnsByField.get(referencedField)?.column ?? referencedField);
      const table = qualifiedTable(model);
      const column = quoteIdent(fk.column);
      const idColumn = quoteIdent(model.columnsByField.get(model.idField)?.column ?? 'id');
      const positionColumn = ownChildren.has(model.name) ? plan.children.find((c) => c.model.name === model.name)?.positionColumn : undefined;
      const position = positionColumn ? `r.${positionColumn}` : 'NULL';
      const refs = await client.query<{ id: string; child: string; position: number | null }>(
        `SELECT t.${plan.main.idColumn}::text AS id, r.${idColumn}::text AS child, ${position} AS position
           FROM ${table} r JOIN ${plan.main.table} t ON r.${column} = t.${referenced}
          WHERE t.${plan.main.idColumn} = ANY($1::uuid[])`,
        [ids],
      );
      for (const r of refs.rows) {
        // The migration's own child rows of this document go with it.
        if (ownChildren.has(model.name) && r.position !== null && isMigrationChild({ id: r.child, parent: r.id, position: r.position }, model.name)) continue;
        out.add(r.id);
      }
    }
  }
  return [...out];
}

/** Of one page of source ids, the documents the registry does not know and that were never rejected: migrated now. */
async function migrateUnknown(collection: MappedCollection, plan: WritePlan, ctx: BatchContext, ids: readonly unknown[]): Promise<void> {
  if (ids.length === 0) return;
  const keys = ids.map((id) => sourceIdKey(id));
  const knownKeys = await knownSourceKeys(ctx.pool, collection.name, keys);
  const missing = ids.filter((_, i) => !knownKeys.has(keys[i] as string));
  if (missing.length === 0) return;
  const docs = await ctx.db.collection(collection.name).find({ _id: { $in: missing } } as Document, { sort: { _id: 1 }, useBigInt64: true, promoteBuffers: false, bsonRegExp: true }).toArray();
  for (let i = 0; i < docs.length; i += ctx.batchSize) {
    await processBatch({ collection, plan }, ctx, docs.slice(i, i + ctx.batchSize), { options: { mode: 'upsert', onConflict: collection.onConflict }, progress: async () => undefined });
  }
}
