/**
 * A source document → the rows it becomes (the model's row and its child rows), or the
 * reason it is set aside. Pure and synchronous: the same document always gives the same
 * rows, which is what lets verify convert again and compare.
 *
 * References are turned into UUIDs here without any lookup (the UUID of a document is a
 * function of its `_id`); whether the referenced row exists is checked per batch by the
 * caller, which then applies each field's missing-reference policy with `settleReferences`.
 */
import type { SourceDocument } from '../config/define-config.js';
import type { MappedChild, MappedCollection, MappedColumn } from './mapping.js';
import type { SchemaColumn } from '../schema/prisma-schema.js';
import { convertList, convertScalar } from './convert-value.js';
import { childUuid, idToUuid, objectIdToUuid, parseReference, sourceIdKey } from './ids.js';
import { toJson } from './values/index.js';
import { bsonTypeOf, isObjectIdLike } from './values/conversion.js';
import { EPOCH_SECONDS_SUSPECT, looksLikeEpochSeconds } from './values/timestamp.js';

/** A reference written by a row, to be checked against the target table. */
export interface PendingReference {
  /** Index in `ConvertedDocument.rows` (0 = the document's own row). */
  row: number;
  /** Column index in that row. */
  column: number;
  uuid: string;
  targetCollection: string;
  mapped: MappedColumn;
  /** The source value as text (24-hex for ObjectIds), kept for the orphan report and `keep`. */
  sourceText: string;
  /**
   * A 24-hex string is read as an ObjectId; when no such document exists, the document whose
   * `_id` is that very string (a string `_id`) is the one referenced, if it exists.
   */
  alternative?: { uuid: string; sourceText: string };
  /**
   * Matched by a key rather than by `_id`. 'column': a relation to a unique target field that
   * is not the id; `text` (the converted value) is what the row holds, and `uuid` is only the
   * lookup key `<field>=<text>`. 'source' (`by`): the referenced document is the one whose
   * source field holds `value`; `uuid` is '' until the reference index resolves it.
   */
  key?: { kind: 'column'; field: string; text: string; value: unknown } | { kind: 'source'; field: readonly string[]; value: unknown; idKey?: string };
}

export interface ConvertedRows {
  /** Rows in write order: the document's row first, then child rows grouped by child mapping. */
  rows: RowBuffer[];
}

export interface RowBuffer {
  /** null: the collection's own model; otherwise the index of the child mapping. */
  child: number | null;
  /** The row's position in its array (0 for the document's own row): what the position column holds. */
  position: number;
  values: (string | null)[];
  /** The extra JSON object before serialisation (orphans are added to it after the reference check). */
  extra: Record<string, unknown> | undefined;
  extraIndex: number;
}

export interface ConvertedDocument {
  sourceKey: string;
  uuid: string;
  rows: RowBuffer[];
  references: PendingReference[];
  /** `field: coercion` entries, for the run's coercion counts. */
  coercions: string[];
}

export type ConversionResult =
  | { ok: true; doc: ConvertedDocument }
  | { ok: false; sourceKey: string; uuid: string | undefined; reason: string; path: string };

class Reject extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** The columns of a model that the migration writes, in COPY order. */
export function writtenColumns(columns: readonly MappedColumn[]): MappedColumn[] {
  return columns.filter((c) => c.source.kind !== 'none');
}

export function convertDocument(mapping: MappedCollection, raw: SourceDocument): ConversionResult {
  const id = raw._id;
  let sourceKey = '';
  let uuid: string | undefined;
  try {
    sourceKey = sourceIdKey(id);
    uuid = idToUuid(mapping.name, id);
    if (id === undefined || id === null) throw new Reject('_id', 'document has no _id');
    const doc = mapping.prepare ? mapping.prepare(raw) : raw;
    const out: ConvertedDocument = { sourceKey, uuid, rows: [], references: [], coercions: [] };
    // The ObjectId's time is only needed when a required creation date is missing: made then.
    const objectId = isObjectIdLike(id) ? id : undefined;
    const rowUuid = uuid;
    out.rows.push(convertRow(mapping.columns, doc, mapping.consumedPaths, mapping.ignored, { uuid: rowUuid, parent: undefined, position: 0, objectId, element: undefined }, out, null));
    mapping.children.forEach((child, ci) => convertChildren(child, ci, doc, rowUuid, out));
    return { ok: true, doc: out };
  } catch (e) {
    if (e instanceof Reject) return { ok: false, sourceKey, uuid, reason: e.reason, path: e.path };
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, sourceKey, uuid, reason: `conversion failed: ${message}`, path: '' };
  }
}

function convertChildren(child: MappedChild, ci: number, doc: SourceDocument, parentUuid: string, out: ConvertedDocument): void {
  const value = typeof child.from === 'function' ? child.from(doc) : valueAt(doc, child.from);
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) throw new Reject(child.label, `is ${describe(value)}, expected an array`);
  // One identity for the array, moved along it: convertRow reads it and keeps nothing of it.
  const identity: RowIdentity = { uuid: '', parent: parentUuid, position: 0, objectId: undefined, element: undefined };
  for (let i = 0; i < value.length; i++) {
    const element: unknown = value[i];
    identity.uuid = childUuid(parentUuid, child.model.name, i);
    identity.position = i;
    identity.element = undefined;
    if (isPlainObject(element)) {
      out.rows.push(convertRow(child.columns, element, child.consumedPaths, EMPTY, identity, out, ci));
      continue;
    }
    // An array of plain values (`accounts: [371138, …]`, `tags: ['a', 'b']`): each value goes to the child's value column.
    if (child.valueColumn === undefined || element === null || element === undefined || Array.isArray(element) || isPlainObjectLike(element)) {
      const expected = child.valueColumn === undefined ? 'expected an object' : `expected an object or a plain value for "${child.valueColumn}"`;
      throw new Reject(`${child.label}[${i}]`, `${child.label}[${i}] is ${describe(element)}${describeValue(element)}, ${expected}`);
    }
    identity.element = { field: child.valueColumn, value: element };
    out.rows.push(convertRow(child.columns, EMPTY_DOC, child.consumedPaths, EMPTY, identity, out, ci));
  }
}

const EMPTY: ReadonlySet<string> = new Set();
const EMPTY_DOC: SourceDocument = Object.freeze({});

/** An object that is neither a BSON value nor a Date: a sub-document, which a value column cannot take. */
function isPlainObjectLike(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !(v instanceof Date) && (v as { _bsontype?: unknown })._bsontype === undefined && !isObjectIdLike(v);
}

interface RowIdentity {
  uuid: string;
  parent: string | undefined;
  position: number;
  /** The document's ObjectId, whose time stands in for a required creation date that is missing. */
  objectId: { toHexString(): string } | undefined;
  /** A child row built from a plain array element: the value of this field is the element itself. */
  element: { field: string; value: unknown } | undefined;
}

/** A column's path in messages (`items[3].price`), for the row being converted: made only when a message needs it. */
function pathOf(m: MappedColumn, child: number | null, identity: RowIdentity): string {
  return child === null ? m.label : m.label.replace('[]', `[${identity.position}]`);
}

/** Whether a model's written columns include the extra JSON one, per column list (lists live as long as the mapping). */
const extraOf = new WeakMap<readonly MappedColumn[], boolean>();
function hasExtraColumn(columns: readonly MappedColumn[]): boolean {
  let has = extraOf.get(columns);
  if (has === undefined) extraOf.set(columns, (has = columns.some((c) => c.source.kind === 'extra')));
  return has;
}

/** convertPresent's answer for a value the `onInvalid: 'extra'` policy keeps in the extra JSON (the column gets NULL). */
const KEEP_IN_EXTRA = Symbol('keep in extra');

function convertRow(
  columns: readonly MappedColumn[],
  doc: SourceDocument,
  consumed: readonly (readonly string[])[],
  ignored: ReadonlySet<string>,
  identity: RowIdentity,
  out: ConvertedDocument,
  child: number | null,
): RowBuffer {
  // Values kept aside by the `onInvalid: 'extra'` policy, merged into the extra JSON below.
  let invalid: Record<string, unknown> | undefined;
  const hasExtra = hasExtraColumn(columns);
  const values: (string | null)[] = [];
  let extra: Record<string, unknown> | undefined;
  let extraIndex = -1;
  const rowIndex = out.rows.length;
  for (const mapped of columns) {
    const source = mapped.source;
    switch (source.kind) {
      case 'none':
        continue;
      case 'id':
        values.push(identity.uuid);
        continue;
      case 'parent':
        values.push(identity.parent ?? null);
        continue;
      case 'position':
        values.push(String(identity.position));
        continue;
      case 'extra':
        extraIndex = values.length;
        extra = remainder(doc, consumed, ignored);
        values.push(null);
        continue;
      case 'reference': {
        const rawValue = identity.element?.field === mapped.column.field ? identity.element.value : valueAt(doc, source.path);
        const value = source.transform ? source.transform(rawValue, doc) : rawValue;
        if (source.toField !== undefined) {
          // The value itself is the key: converted like any value, checked against the target's unique field.
          const text = convertPresent(mapped, value, child, out, identity, false) as string | null;
          if (text !== null && value !== undefined && value !== null) {
            out.references.push({ row: rowIndex, column: values.length, uuid: `${source.toField}=${text}`, targetCollection: source.targetCollection, mapped, sourceText: `${source.toField}=${shortText(text)}`, key: { kind: 'column', field: source.toField, text, value } });
          }
          values.push(text);
          continue;
        }
        if (source.by !== undefined) {
          if (value === undefined || value === null) {
            values.push(nullFor(mapped, child, identity));
            continue;
          }
          // Resolved per batch through MongoDB (the reference index): the UUID of the document holding this key.
          const by = source.by.join('.');
          out.references.push({ row: rowIndex, column: values.length, uuid: '', targetCollection: source.targetCollection, mapped, sourceText: `${by}=${shortText(keyText(value))}`, key: { kind: 'source', field: source.by, value } });
          values.push(null);
          continue;
        }
        const ref = value === undefined || value === null ? null : parseReference(value);
        if (ref === null) {
          values.push(nullFor(mapped, child, identity));
          continue;
        }
        const refUuid = ref.kind === 'objectId' ? objectIdToUuid(ref.hex) : idToUuid(source.targetCollection, ref.value);
        const sourceText = ref.kind === 'objectId' ? ref.hex : sourceIdKey(ref.value);
        const pending: PendingReference = { row: rowIndex, column: values.length, uuid: refUuid, targetCollection: source.targetCollection, mapped, sourceText };
        if (ref.kind === 'objectId' && typeof value === 'string') pending.alternative = { uuid: idToUuid(source.targetCollection, value), sourceText: sourceIdKey(value) };
        out.references.push(pending);
        if (ref.kind === 'objectId' && typeof value === 'string') out.coercions.push(`${mapped.label}:reference-from-hex-string`);
        if (bsonTypeOf(value) === 'DBRef') out.coercions.push(`${mapped.label}:reference-from-dbref`);
        values.push(refUuid);
        continue;
      }
      case 'value': {
        const rawValue = identity.element?.field === mapped.column.field ? identity.element.value : valueAt(doc, source.path);
        const value = source.transform ? source.transform(rawValue, doc) : rawValue;
        const text = convertPresent(mapped, value, child, out, identity, hasExtra);
        if (text === KEEP_IN_EXTRA) {
          // The operator chose to keep the document: NULL in the column, the original value kept in the extra JSON.
          (invalid ??= Object.create(null) as Record<string, unknown>)[pathOf(mapped, child, identity)] = keepableInJson(value);
          values.push(null);
        } else values.push(text);
        continue;
      }
    }
  }
  if (invalid !== undefined) {
    extra ??= Object.create(null) as Record<string, unknown>;
    extra.$invalid = invalid;
  }
  return { child, position: identity.position, values, extra, extraIndex };
}

/**
 * A value set aside under `$invalid` as jsonb can hold it, without loss: a double that is NaN
 * or ±Infinity (or such a Decimal128), which jsonb has no literal for, as its canonical
 * Extended JSON (`{"$numberDouble": "NaN"}`, `{"$numberDecimal": "-Infinity"}`); a string
 * holding NUL characters as `{"$splitAtNul": [...]}`, its parts between the NULs. Before, the
 * value that made the column refuse it also made the extra column refuse it, so the document
 * the operator chose to keep was rejected after all. Anything else is kept as it is.
 */
export function keepableInJson(value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return { $numberDouble: nonFiniteText(value) };
  // jsonb cannot hold U+0000 at all: the text split at each NUL, readable and exact (join with "\u0000").
  if (typeof value === 'string' && value.includes('\u0000')) return { $splitAtNul: value.split('\u0000') };
  const t = typeof value === 'object' && value !== null ? (value as { _bsontype?: unknown })._bsontype : undefined;
  if (t === 'Double') {
    const n = Number((value as { value: number }).value);
    if (!Number.isFinite(n)) return { $numberDouble: nonFiniteText(n) };
  }
  if (t === 'Decimal128') {
    const text = String(value);
    if (/^-?(Infinity|NaN)$/i.test(text)) return { $numberDecimal: text };
  }
  return value;
}

function nonFiniteText(n: number): string {
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

function convertPresent(
  mapped: MappedColumn,
  value: unknown,
  child: number | null,
  out: ConvertedDocument,
  identity: RowIdentity,
  hasExtra: boolean,
): string | null | typeof KEEP_IN_EXTRA {
  const column = mapped.column;
  if (value === undefined || value === null) return nullFor(mapped, child, identity, out);
  const r = column.isList ? convertList(column, value, mapped.options) : convertScalar(column, value, mapped.options);
  if (r.ok) {
    // Coercions are counted per field, not per array position.
    if (r.coercion) out.coercions.push(`${mapped.label}:${r.coercion}`);
    // Epoch numbers read as milliseconds that look like seconds: said (plan shows it), not changed.
    if (column.kind.type === 'timestamp' && mapped.options.epoch === undefined && !column.isList && r.coercion?.startsWith('date-from-epoch-ms') && looksLikeEpochSeconds(value)) {
      out.coercions.push(`${mapped.label}:${EPOCH_SECONDS_SUSPECT}`);
    }
    return r.value;
  }
  if (mapped.options.onInvalid === 'extra' && !column.isRequired && hasExtra) {
    out.coercions.push(`${mapped.label}:invalid-kept-in-extra`);
    return KEEP_IN_EXTRA;
  }
  const path = pathOf(mapped, child, identity);
  throw new Reject(path, `${path} ${r.reason}`);
}

/**
 * An absent or null value: NULL for an optional column; for a required column the schema's
 * literal default (recorded as a coercion), the ObjectId's own time for a missing creation
 * date, or a reject naming the field.
 */
function nullFor(mapped: MappedColumn, child: number | null, identity: RowIdentity, out?: ConvertedDocument): string | null {
  const column = mapped.column;
  if (!column.isRequired) return null;
  if (column.isList) return '{}';
  if (column.defaultLiteral !== undefined) {
    out?.coercions.push(`${mapped.label}:default-applied`);
    if (column.kind.type === 'boolean') return column.defaultLiteral ? 't' : 'f';
    return String(column.defaultLiteral);
  }
  if (column.kind.type === 'timestamp' && column.defaultFunction === 'now' && identity.objectId) {
    // Mongoose sets createdAt when it creates the _id: the ObjectId's time is the same instant to the second.
    out?.coercions.push(`${mapped.label}:date-from-objectid-time`);
    return new Date(objectIdSeconds(identity.objectId.toHexString()) * 1000).toISOString();
  }
  const path = pathOf(mapped, child, identity);
  throw new Reject(path, `${path} is missing, and "${column.field}" is required`);
}

const ARRAY_INDEX = /^(0|[1-9]\d{0,8})$/;

function objectIdSeconds(hex: string): number {
  return Number.parseInt(hex.slice(0, 8), 16);
}

/**
 * The value at a dotted path, undefined when any step is missing or not an object. A step
 * that is a non-negative integer reads that position of an array (`location.coordinates.0`),
 * as MongoDB's dotted paths do.
 */
export function valueAt(doc: unknown, path: readonly string[]): unknown {
  let cur: unknown = doc;
  for (const key of path) {
    if (Array.isArray(cur)) {
      if (!ARRAY_INDEX.test(key)) return undefined;
      const i = Number(key);
      if (i >= cur.length) return undefined;
      cur = cur[i] as unknown;
      continue;
    }
    if (cur === null || typeof cur !== 'object') return undefined;
    if (!Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * What no column consumes: top-level fields not mapped, and unmapped keys inside objects of
 * which only some paths are mapped. A mapped path whose parent is not an object (an address
 * that is a string) leaves that value here, so it is kept rather than lost.
 */
export function remainder(doc: SourceDocument, consumed: readonly (readonly string[])[], ignored: ReadonlySet<string>): Record<string, unknown> | undefined {
  return remainderOf(doc, consumed, 0, ignored);
}

type ConsumedEntry = { whole: boolean; relevant: readonly (readonly string[])[] };
const NONE: readonly (readonly string[])[] = [];
const consumedIndex = new WeakMap<readonly (readonly string[])[], { depth: number; byKey: Map<string, ConsumedEntry> }>();

/**
 * The consumed paths grouped by their key at `depth`, made once per list (the mapping's lists
 * and the groups made from them live as long as the mapping): filtering the whole list for
 * every key of every document cost a fifth of the conversion.
 */
function consumedAt(consumed: readonly (readonly string[])[], depth: number): Map<string, ConsumedEntry> {
  const cached = consumedIndex.get(consumed);
  if (cached && cached.depth === depth) return cached.byKey;
  const groups = new Map<string, (readonly string[])[]>();
  for (const p of consumed) {
    const key = p[depth];
    if (key === undefined) continue;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(p);
  }
  const byKey = new Map<string, ConsumedEntry>();
  for (const [key, relevant] of groups) byKey.set(key, { whole: relevant.some((p) => p.length === depth + 1), relevant });
  consumedIndex.set(consumed, { depth, byKey });
  return byKey;
}

function remainderOf(obj: Readonly<Record<string, unknown>>, consumed: readonly (readonly string[])[], depth: number, ignored: ReadonlySet<string>): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (value === undefined || (depth === 0 && ignored.has(key))) continue;
    const entry = consumedAt(consumed, depth).get(key);
    if (entry?.whole) continue; // consumed whole
    const relevant = entry?.relevant ?? NONE;
    let kept: unknown = value;
    if (relevant.length > 0 && isPlainObject(value)) {
      kept = remainderOf(value, relevant, depth + 1, EMPTY);
      if (kept === undefined) continue;
    }
    out ??= Object.create(null) as Record<string, unknown>;
    out[key] = kept;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && (v as { _bsontype?: unknown })._bsontype === undefined;
}

/** A key value as text for messages: strings as they are, other values by their source key. */
function keyText(value: unknown): string {
  return typeof value === 'string' ? value : sourceIdKey(value);
}

/** Long values cut for messages. */
function shortText(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

/** ` (12, "abc…")`: a plain value shown in a message, truncated; nothing for objects. */
function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return ` (${String(value)})`;
  if (typeof value === 'string') return ` (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
  return '';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (isObjectIdLike(value)) return 'an ObjectId';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Applies missing-reference policies once the caller knows which referenced UUIDs exist,
 * and serialises the extra JSON of each row. Returns a reject when a policy says so.
 */
export function settleReferences(
  doc: ConvertedDocument,
  exists: (targetCollection: string, uuid: string) => boolean,
  deferred: (ref: PendingReference) => boolean,
  orphans: (ref: PendingReference) => void,
  /** Why a referenced row does not exist, for the message: its document is set aside by this run (a prediction knows). */
  rejected?: (targetCollection: string, uuid: string) => boolean,
): { ok: true } | { ok: false; reason: string; path: string } {
  for (const ref of doc.references) {
    if (deferred(ref)) {
      // Written in the second pass of a foreign-key cycle: NULL for now.
      (doc.rows[ref.row] as RowBuffer).values[ref.column] = null;
      continue;
    }
    if (ref.uuid !== '' && exists(ref.targetCollection, ref.uuid)) {
      // A business-key reference resolved by the index: the referenced document's UUID.
      if (ref.key?.kind === 'source') (doc.rows[ref.row] as RowBuffer).values[ref.column] = ref.uuid;
      continue;
    }
    if (ref.alternative && exists(ref.targetCollection, ref.alternative.uuid)) {
      // A hex string that is the referenced document's string `_id`: that document's UUID.
      ref.uuid = ref.alternative.uuid;
      ref.sourceText = ref.alternative.sourceText;
      (doc.rows[ref.row] as RowBuffer).values[ref.column] = ref.uuid;
      continue;
    }
    orphans(ref);
    const source = ref.mapped.source;
    const policy = source.kind === 'reference' ? source.onMissing : 'reject';
    const row = doc.rows[ref.row] as RowBuffer;
    const path = labelOf(doc, ref);
    const missing = rejected?.(ref.targetCollection, ref.uuid)
      ? `which does not exist: that document is itself rejected (see its reason)`
      : 'which does not exist';
    if (policy === 'reject' || ref.mapped.column.isRequired) {
      return { ok: false, reason: `${path} references ${ref.targetCollection} ${shortText(ref.sourceText)}, ${missing}`, path };
    }
    row.values[ref.column] = null;
    if (policy === 'keep') {
      if (row.extraIndex < 0) return { ok: false, reason: `${path} references ${ref.targetCollection} ${shortText(ref.sourceText)}, ${missing}, and the model has no extra JSON field to keep it`, path };
      row.extra ??= Object.create(null) as Record<string, unknown>;
      const bucket = (row.extra.$orphans ??= Object.create(null)) as Record<string, unknown>;
      bucket[path] = ref.sourceText;
    }
  }
  for (const row of doc.rows) {
    if (row.extraIndex < 0 || row.extra === undefined) continue;
    const json = toJson(row.extra);
    if (!json.ok) return { ok: false, reason: `unmapped fields: ${json.reason}`, path: 'legacyExtra' };
    row.values[row.extraIndex] = json.value;
    // Its text is the row's now: the object, which holds parts of the source document, is not kept through the write.
    row.extra = undefined;
  }
  return { ok: true };
}

function labelOf(doc: ConvertedDocument, ref: PendingReference): string {
  const row = doc.rows[ref.row] as RowBuffer;
  if (row.child === null) return ref.mapped.label;
  const position = doc.rows.slice(0, ref.row).filter((r) => r.child === row.child).length;
  return ref.mapped.label.replace('[]', `[${position}]`);
}

export type { SchemaColumn };
