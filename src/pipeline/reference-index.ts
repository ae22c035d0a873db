/**
 * Which referenced rows exist, for every use of the batch pipeline, by one rule:
 *
 * - a referenced row exists when the TARGET table has it (written by this or an earlier run);
 * - in a prediction (migrate --dry-run, plan), where nothing is written, it also exists when
 *   its document is in the SOURCE collection (it would be migrated first, references being
 *   loaded in order) and the prediction does not set that document aside (markRejected): a
 *   rejected document never arrives in the target table, so references to it dangle.
 *
 * Which source values are references, and the UUID each stands for, is transform's rule
 * (ObjectIds, hex strings and string or numeric ids alike); the referenced `_id` is read back
 * by idOfReference, and a document found in the source is matched by its own UUID. Looked up
 * once per batch and target, for the UUIDs not already known; bounded so memory stays flat.
 */
import type { Db, Document, Filter } from 'mongodb';
import type pg from 'pg';
import { collectionColumns, type MigrationMapping } from '../core/mapping.js';
import { valueAt, type ConvertedDocument, type PendingReference } from '../core/transform.js';
import { idToUuid, sourceIdKey, uuidToObjectId } from '../core/ids.js';
import { standingRejects } from '../state/rejects.js';
import { convertScalar } from '../core/convert-value.js';
import { EXACT_READ_OPTIONS } from '../source/mongo-source.js';
import { qualifiedTable, quoteIdent, type SchemaModel } from '../schema/prisma-schema.js';
import { idOfReference } from './source-keys.js';
import { KnownIds, type Found } from './known-ids.js';

/** Where the index looks for referenced rows. */
export interface ReferenceSources {
  /** The target database: rows already written. Absent for `plan`, which reads only the source. */
  target?: pg.Pool;
  /** A prediction: the source database, whose documents would be migrated first. */
  source?: Db;
  /**
   * A prediction: the target's state, whose rejects of earlier runs are documents of the source
   * that never arrive in the target (a later migrate does not write them again): references to
   * them dangle. Absent, or without state tables: none.
   */
  earlierRejects?: pg.Pool;
  /** Known ids kept per target collection before the cache starts over. */
  maxKnown?: number;
  /** Documents remembered as predicted rejects per collection. */
  maxRejected?: number;
  /**
   * The source database, to resolve references by a business key (`by`) when writing; a
   * prediction uses `source`. Without either, such references cannot be resolved (an error).
   */
  keys?: Db;
}

export const AMBIGUOUS = ' (not unique in the source: several documents hold it)';

/** Column-key references grouped by target field: each with its converted text, raw value and lookup key. */
function groupByField(refs: readonly [string, PendingReference][]): Map<string, { key: string; text: string; value: unknown }[]> {
  const out = new Map<string, { key: string; text: string; value: unknown }[]>();
  for (const [key, ref] of refs) {
    if (ref.key?.kind !== 'column') continue;
    let g = out.get(ref.key.field);
    if (!g) out.set(ref.key.field, (g = []));
    g.push({ key, text: ref.key.text, value: ref.key.value });
  }
  return out;
}

/** Ids per `$in` query: keeps each query well under the 16 MB command limit and FerretDB fast. */
const IN_CHUNK = 1000;

/** A business key's document: its UUID and source key, null (none holds it) or 'ambiguous' (several do). */
type BusinessKeyHit = { uuid: string; idKey: string } | null | 'ambiguous';

/** PostgreSQL's "no such table / schema": a prediction against a database the schema was never applied to. */
const NO_TABLE = new Set(['42P01', '3F000']);

export class ReferenceIndex {
  /** Per target collection, what is known of each referenced UUID: a target row, a source document only, or nothing. */
  private readonly known = new Map<string, KnownIds>();
  private readonly models = new Map<string, SchemaModel>();
  private readonly rejected = new Map<string, Set<string>>();
  private readonly mapping: MigrationMapping;
  /** Business keys (`by`) per `collection\u0000path`: key of the value → the referenced UUID, null (none) or 'ambiguous'. */
  private readonly byKeys = new Map<string, Map<string, BusinessKeyHit>>();
  private readonly maxKnown: number;
  private readonly maxRejected: number;
  /** True once a rejected set hit its bound: references to later rejected documents count as resolved. */
  rejectedIncomplete = false;

  constructor(
    mapping: MigrationMapping,
    private readonly sources: ReferenceSources,
  ) {
    this.mapping = mapping;
    this.maxKnown = sources.maxKnown ?? 500_000;
    this.maxRejected = sources.maxRejected ?? 1_000_000;
    for (const c of mapping.collections.values()) {
      for (const col of collectionColumns(c)) {
        if (col.source.kind === 'reference') this.models.set(col.source.targetCollection, col.source.targetModel);
      }
    }
  }

  /** Whether this index predicts (reads the source) rather than reports what was written. */
  get predicts(): boolean {
    return this.sources.source !== undefined;
  }

  /** Looks up every referenced UUID of `docs` not yet known: one query per target table, then the source. */
  async load(docs: readonly ConvertedDocument[], keys?: Db): Promise<void> {
    await this.resolveBusinessKeys(docs, keys);
    for (const [collection, refs] of this.unknownReferences(docs)) {
      const found = new Map<string, Found>();
      const byId = [...refs].filter(([, r]) => r.key?.kind !== 'column');
      const byColumn = [...refs].filter(([, r]) => r.key?.kind === 'column');
      for (const uuid of await this.inTarget(collection, byId.map(([uuid]) => uuid))) found.set(uuid, 'target');
      const rest = byId.filter(([uuid]) => !found.has(uuid)).map(([uuid, r]): [string, string] => [uuid, r.sourceText]);
      if (this.sources.source) {
        const inSource = await this.inSource(this.sources.source, collection, rest);
        for (const uuid of inSource) found.set(uuid, 'source');
        await this.markEarlierRejects(collection, rest.filter(([uuid]) => found.get(uuid) === 'source'));
      }
      if (byColumn.length > 0) {
        for (const k of await this.columnInTarget(collection, byColumn)) found.set(k, 'target');
        for (const k of await this.columnInSource(collection, byColumn.filter(([k]) => !found.has(k)))) found.set(k, 'source');
      }
      this.remember(collection, refs.keys(), found);
    }
  }

  /**
   * References by a business key (`by`): the referenced document is looked up in the source
   * collection by that field, once per distinct value (cached for the run, bounded), and the
   * reference gets that document's UUID. No document, or more than one: left unresolved (an orphan).
   */
  private async resolveBusinessKeys(docs: readonly ConvertedDocument[], keys: Db | undefined): Promise<void> {
    const wanted = new Map<string, { collection: string; path: readonly string[]; values: Map<string, unknown> }>();
    // What this call resolves, read from the cache or the source, kept apart from the shared cache:
    // another collection's batch may run the same lookups meanwhile (migrate, verify), and must
    // never read a value as "none" while its query is still in flight, nor lose it to a reset.
    const resolved = new Map<string, Map<string, BusinessKeyHit>>();
    const local = (id: string) => {
      let m = resolved.get(id);
      if (!m) resolved.set(id, (m = new Map()));
      return m;
    };
    const pending: PendingReference[] = [];
    for (const d of docs) {
      for (const ref of d.references) {
        if (ref.key?.kind !== 'source') continue;
        pending.push(ref);
        const id = `${ref.targetCollection}\u0000${ref.key.field.join('.')}`;
        const valueKey = sourceIdKey(ref.key.value);
        const cache = this.byKeys.get(id);
        if (cache?.has(valueKey)) {
          local(id).set(valueKey, cache.get(valueKey) as BusinessKeyHit);
          continue;
        }
        let w = wanted.get(id);
        if (!w) wanted.set(id, (w = { collection: ref.targetCollection, path: ref.key.field, values: new Map() }));
        w.values.set(valueKey, ref.key.value);
      }
    }
    if (pending.length === 0) return;
    const db = keys ?? this.sources.keys ?? this.sources.source;
    if (!db) throw new Error('references by a business key ("by") are resolved through MongoDB, and this command gave the reference index no source database');
    for (const [id, w] of wanted) {
      const got = local(id);
      const field = w.path.join('.');
      const values = [...w.values];
      for (const [key] of values) got.set(key, null);
      for (let i = 0; i < values.length; i += IN_CHUNK) {
        const chunk = values.slice(i, i + IN_CHUNK).map(([, v]) => v);
        const found = await db
          .collection(w.collection)
          .find({ [field]: { $in: chunk } } as Filter<Document>, { projection: { _id: 1, [field]: 1 }, ...EXACT_READ_OPTIONS })
          .toArray();
        for (const d of found) {
          const v = valueAt(d, w.path);
          if (v === undefined || v === null || Array.isArray(v)) continue;
          const key = sourceIdKey(v);
          if (!w.values.has(key)) continue;
          const uuid = idToUuid(w.collection, d._id);
          const previous = got.get(key);
          const same = previous === null || previous === undefined || (previous !== 'ambiguous' && previous.uuid === uuid);
          got.set(key, same ? { uuid, idKey: sourceIdKey(d._id) } : 'ambiguous');
        }
      }
      // Published once complete.
      let cache = this.byKeys.get(id);
      if (!cache || cache.size > this.maxKnown) this.byKeys.set(id, (cache = new Map()));
      for (const [key] of values) cache.set(key, got.get(key) ?? null);
    }
    for (const ref of pending) {
      if (ref.key?.kind !== 'source') continue;
      const hit = resolved.get(`${ref.targetCollection}\u0000${ref.key.field.join('.')}`)?.get(sourceIdKey(ref.key.value));
      if (hit === 'ambiguous') {
        ref.uuid = '';
        if (!ref.sourceText.endsWith(AMBIGUOUS)) ref.sourceText += AMBIGUOUS;
      } else {
        ref.uuid = hit?.uuid ?? '';
        if (hit) ref.key.idKey = hit.idKey;
      }
    }
  }

  /** Keys `<field>=<text>` of references to a unique target column whose row exists in the target table. */
  private async columnInTarget(collection: string, refs: readonly [string, PendingReference][]): Promise<string[]> {
    const model = this.models.get(collection);
    const pool = this.sources.target;
    if (!model || !pool || refs.length === 0) return [];
    const out: string[] = [];
    for (const [field, group] of groupByField(refs)) {
      const column = model.columnsByField.get(field);
      if (!column) continue;
      const col = quoteIdent(column.column);
      try {
        // The parameter takes the column's type: the values are compared as PostgreSQL reads them.
        const r = await pool.query<{ v: string }>(`SELECT ${col}::text AS v FROM ${qualifiedTable(model)} WHERE ${col} = ANY($1)`, [group.map((g) => g.text)]);
        const asked = new Map(group.map((g) => [g.text, g.key]));
        for (const row of r.rows) {
          const k = asked.get(row.v);
          if (k !== undefined) out.push(k);
        }
      } catch (e) {
        if (this.predicts && NO_TABLE.has(String((e as { code?: unknown }).code))) continue;
        throw e;
      }
    }
    return out;
  }

  /**
   * In a prediction: keys whose row would be written from the source, i.e. a document of the
   * target collection whose mapped source value converts to the same text, not set aside.
   */
  private async columnInSource(collection: string, refs: readonly [string, PendingReference][]): Promise<string[]> {
    const db = this.sources.source;
    const target = this.mapping.collections.get(collection);
    if (!db || !target || refs.length === 0) return [];
    const out: string[] = [];
    for (const [field, group] of groupByField(refs)) {
      const mapped = target.columns.find((c) => c.column.field === field);
      if (mapped?.source.kind !== 'value' || mapped.source.transform) continue;
      const path = mapped.source.path;
      const asked = new Map(group.map((g) => [g.text, g.key]));
      const values = group.map((g) => g.value);
      for (let i = 0; i < values.length; i += IN_CHUNK) {
        const docs = await db
          .collection(collection)
          .find({ [path.join('.')]: { $in: values.slice(i, i + IN_CHUNK) } } as Filter<Document>, { projection: { _id: 1, [path.join('.')]: 1 }, ...EXACT_READ_OPTIONS })
          .toArray();
        for (const d of docs) {
          if (this.rejected.get(collection)?.has(idToUuid(collection, d._id))) continue;
          const v = valueAt(d, path);
          const r = v === undefined || v === null ? undefined : convertScalar(mapped.column, v, mapped.options);
          const k = r?.ok && r.value !== null ? asked.get(r.value) : undefined;
          if (k !== undefined) out.push(k);
        }
      }
    }
    return out;
  }

  /** A prediction: documents found in the source that an earlier run rejected are set aside, as if this run had. */
  private async markEarlierRejects(collection: string, refs: readonly [string, string][]): Promise<void> {
    const pool = this.sources.earlierRejects;
    if (!pool || refs.length === 0) return;
    const keyOf = new Map<string, string>();
    for (const [uuid, sourceText] of refs) {
      const hex = uuidToObjectId(uuid);
      keyOf.set(hex !== null ? `oid:${hex}` : sourceText, uuid);
    }
    for (const k of await standingRejects(pool, collection, [...keyOf.keys()])) this.markRejected(collection, keyOf.get(k));
  }

  /** A prediction sets the referenced document aside: it exists in the source, but its row never will. */
  isRejected(collection: string, uuid: string): boolean {
    return this.known.get(collection)?.get(uuid) === 'source' && this.rejected.get(collection)?.has(uuid) === true;
  }

  exists(collection: string, uuid: string): boolean {
    const found = this.known.get(collection)?.get(uuid);
    return found === 'target' || (found === 'source' && !this.rejected.get(collection)?.has(uuid));
  }

  /** A prediction sets this document aside: references to it will not resolve through the source. */
  markRejected(collection: string, uuid: string | undefined): void {
    if (uuid === undefined || !this.predicts) return;
    let set = this.rejected.get(collection);
    if (!set) this.rejected.set(collection, (set = new Set()));
    if (set.size >= this.maxRejected) {
      this.rejectedIncomplete = true;
      return;
    }
    set.add(uuid);
  }

  /** Per target collection: the referenced UUIDs (or `<field>=<text>` keys) not known yet, with the reference asking. */
  private unknownReferences(docs: readonly ConvertedDocument[]): Map<string, Map<string, PendingReference>> {
    const wanted = new Map<string, Map<string, PendingReference>>();
    for (const d of docs) {
      for (const ref of d.references) {
        let m = wanted.get(ref.targetCollection);
        if (ref.uuid !== '' && !this.known.get(ref.targetCollection)?.has(ref.uuid)) {
          if (!m) wanted.set(ref.targetCollection, (m = new Map()));
          // A business-key reference is looked up like any other by the `_id` it resolved to.
          m.set(ref.uuid, ref.key?.kind === 'source' && ref.key.idKey !== undefined ? { ...ref, sourceText: ref.key.idKey } : ref);
        }
        // A hex string may be a string `_id`: looked up too (settleReferences uses it when the ObjectId's row is missing).
        const alt = ref.alternative;
        if (alt && !this.known.get(ref.targetCollection)?.has(alt.uuid)) {
          if (!m) wanted.set(ref.targetCollection, (m = new Map()));
          m.set(alt.uuid, { ...ref, uuid: alt.uuid, sourceText: alt.sourceText, alternative: undefined });
        }
      }
    }
    return wanted;
  }

  /**
   * Caches what was found. A miss is kept only in a prediction (nothing is written during it);
   * when writing, a row missing now may be written by a later batch of the same collection.
   */
  private remember(collection: string, asked: Iterable<string>, found: ReadonlyMap<string, Found>): void {
    let cache = this.known.get(collection);
    if (!cache || cache.size > this.maxKnown) this.known.set(collection, (cache = new KnownIds()));
    for (const uuid of asked) {
      const f = found.get(uuid);
      if (f !== undefined) cache.set(uuid, f);
      else if (this.predicts) cache.set(uuid, 'missing');
    }
  }

  private async inTarget(collection: string, uuids: readonly string[]): Promise<string[]> {
    const model = this.models.get(collection);
    const pool = this.sources.target;
    if (!model || !pool || uuids.length === 0) return [];
    const idColumn = quoteIdent(model.columnsByField.get(model.idField)?.column ?? 'id');
    try {
      const r = await pool.query<{ id: string }>(`SELECT ${idColumn}::text AS id FROM ${qualifiedTable(model)} WHERE ${idColumn} = ANY($1::uuid[])`, [uuids]);
      return r.rows.map((row) => row.id);
    } catch (e) {
      // A prediction against a database without the application's tables yet: no row exists. Anything else is an error.
      if (this.predicts && NO_TABLE.has(String((e as { code?: unknown }).code))) return [];
      throw e;
    }
  }

  /**
   * Of references the target does not have yet, those whose document is in the source
   * collection now (`db`): while writing, a reference into the collection itself may name a
   * document of a later batch or of another range, to be written by this very run.
   */
  async laterInSource(db: Db, collection: string, refs: readonly PendingReference[]): Promise<Set<string>> {
    return new Set(await this.inSource(db, collection, refs.map((r) => [r.uuid, r.sourceText])));
  }

  /** The UUIDs among `refs` whose documents exist in the source collection. */
  private async inSource(db: Db, collection: string, refs: readonly [string, string][]): Promise<string[]> {
    if (refs.length === 0) return [];
    const ids: unknown[] = [];
    const wanted = new Set<string>();
    for (const [uuid, sourceText] of refs) {
      const id = idOfReference({ uuid, sourceText });
      if (!id) continue; // dates, objects…: no exact `_id` query; they count as missing and say so in the orphan report
      ids.push(id.id);
      wanted.add(uuid);
    }
    const out: string[] = [];
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const docs = await db
        .collection(collection)
        .find({ _id: { $in: ids.slice(i, i + IN_CHUNK) } } as Filter<Document>, { projection: { _id: 1 }, ...EXACT_READ_OPTIONS })
        .toArray();
      for (const d of docs) {
        const uuid = idToUuid(collection, d._id);
        if (wanted.has(uuid)) out.push(uuid);
      }
    }
    return out;
  }
}
