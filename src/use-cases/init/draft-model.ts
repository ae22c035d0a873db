/**
 * One collection's draft model from its scan: a column per field path present in enough
 * documents, nested objects flattened into columns (or JSON when they vary), arrays of
 * records as child models, arrays of scalars as scalar lists. Relations are added after,
 * across collections (draft-relations.ts). Pure.
 */
import type { PathHistogram } from '../../core/type-histogram.js';
import type { CollectionProfile } from './init-scan.js';
import type { DraftField, DraftModel } from './draft.js';
import { decideScalarType, enumValues, type DraftType, type TypeDecision } from './draft-types.js';
import { camelName, modelNameFor, pascalName, singular, snakeName, unique } from './naming.js';

/** A field present in fewer documents than this share is left to legacyExtra. */
export const MIN_PRESENCE = 0.25;
/** An object with more keys than this, or whose keys are mostly rare, is kept as JSON. */
const MAX_FLATTEN_KEYS = 20;
const MAX_FLATTEN_DEPTH = 2;
const KEY_NAME = /(^|_|[a-z])(id|Id|ID|key|Key|code|Code|email|Email|slug|Slug|sku|SKU|username|Username|login|Login|number|Number|ref|Ref)$|^(email|slug|sku|username|login|code|key)$/;

const pct = (n: number, of: number) => `${of === 0 ? 0 : Math.round((n / of) * 1000) / 10}%`;

interface Scope {
  profile: CollectionProfile;
  model: DraftModel;
  /** Histogram path prefix (`''`, `items[].`, `address.`) and source path prefix relative to the row's element. */
  pathPrefix: string;
  sourcePrefix: string;
  /** Documents or array elements the fields are counted against. */
  containers: number;
  depth: number;
  isChild: boolean;
  taken: Set<string>;
  modelNames: Set<string>;
  enums: Map<string, string[]>;
}

export function baseField(name: string, type: DraftType, role: DraftField['role'], why: string[] = []): DraftField {
  return { name, column: snakeName(name), source: '', type, list: false, required: role !== 'extra', unique: false, profilePath: '', invalid: 0, role, why };
}

function newModel(name: string, table: string, collection: string, documents: number, isChild: boolean): DraftModel {
  return { name, table, collection, documents, fields: [], children: [], leftInExtra: [], comment: [], uniques: [], isChild };
}

/** The draft of one collection, with its child models. */
export function draftCollection(profile: CollectionProfile, modelNames: Set<string>, enums: Map<string, string[]>): DraftModel {
  const name = unique(modelNameFor(profile.name), modelNames);
  const model = newModel(name, snakeName(profile.name), profile.name, profile.documents, false);
  model.comment.push(`collection "${profile.name}": ${profile.documents} documents${profile.sampled ? ' (a sample)' : ''}`);
  const idTypes = Object.keys(profile.histogram.paths._id?.types ?? {}).join(', ');
  model.fields.push(baseField('id', { kind: 'uuid' }, 'id', [`_id (${idTypes || 'none seen'}) as a UUID: ObjectIds map reversibly, other ids by name (UUIDv5)`]));
  const taken = new Set(['id', 'legacyExtra']);
  const sourceId = sourceIdField(profile, taken);
  if (sourceId) model.fields.push(sourceId);
  draftFields({ profile, model, pathPrefix: '', sourcePrefix: '', containers: profile.documents, depth: 0, isChild: false, taken, modelNames, enums });
  model.fields.push(baseField('legacyExtra', { kind: 'json' }, 'extra', ['source fields no column maps (schema drift, rare fields) are kept here, so nothing is lost']));
  return model;
}

/** `_id` kinds a column can hold as they are (text, numbers, dates); anything else (binaries, documents, mixes) is kept as JSON. */
const SCALAR_ID_KINDS = new Set(['string', 'int', 'long', 'double', 'number', 'decimal', 'date']);

/**
 * A column for the document's own `_id` when it is not an ObjectId: the row's id is a UUID
 * derived from it one way (UUIDv5), so without this column a listing's "10006546", a device's
 * binary UUID or a reading's {device, hour} would survive only in the migration's registry,
 * which rollback empties. ObjectIds need none: their UUID reads back into them.
 */
function sourceIdField(profile: CollectionProfile, taken: Set<string>): DraftField | undefined {
  const kinds = Object.keys(profile.histogram.paths._id?.types ?? {});
  if (!kinds.some((k) => k !== 'objectId')) return undefined;
  const p = profile.values.get('_id');
  const scalar = kinds.every((k) => SCALAR_ID_KINDS.has(k)) && p !== undefined && p.scalars > 0;
  const decision: TypeDecision = scalar ? decideScalarType(p, '_id') : { type: { kind: 'json' }, invalid: 0, why: `${kinds.join(', ')} _ids: JSON (Extended JSON for binaries)` };
  const json = decision.type.kind === 'json';
  const name = unique('legacyId', taken);
  return {
    name,
    column: snakeName(name),
    source: '_id',
    type: decision.type,
    list: false,
    // Every document has one, and no two the same: a lookup key for the application (not a JSON one).
    required: !json && decision.invalid === 0,
    unique: !json && decision.invalid === 0,
    // Not offered to relation detection: the collection's ids are its targets already.
    profilePath: '',
    invalid: decision.invalid,
    ...(decision.assumeTimeZone ? { assumeTimeZone: decision.assumeTimeZone } : {}),
    why: [`the document's own _id (${kinds.join(', ')}), which the UUID id is derived from one way: ${decision.why}`],
  };
}

/** The direct sub-paths of a prefix in the histogram: `address.` → address.city, address.zip. */
function directPaths(paths: Record<string, PathHistogram>, prefix: string): string[] {
  return Object.keys(paths).filter((p) => p.startsWith(prefix) && p.length > prefix.length && !/[.[]/.test(p.slice(prefix.length)));
}

function draftFields(scope: Scope): void {
  const paths = scope.profile.histogram.paths;
  for (const path of directPaths(paths, scope.pathPrefix)) {
    const key = path.slice(scope.pathPrefix.length);
    if (scope.depth === 0 && (key === '_id' || key === '__v')) continue;
    // A key with no letter or digit cannot name a column: it stays in legacyExtra.
    if (!/[A-Za-z0-9]/.test(key)) {
      scope.model.leftInExtra.push(`${scope.sourcePrefix}${key} (no usable name)`);
      continue;
    }
    const h = paths[path] as PathHistogram;
    const present = h.count - (h.types.null ?? 0);
    if (h.count < MIN_PRESENCE * scope.containers) {
      scope.model.leftInExtra.push(`${scope.sourcePrefix}${key} (in ${pct(h.count, scope.containers)})`);
      continue;
    }
    const objects = h.types.object ?? 0;
    const arrays = h.types.array ?? 0;
    if (objects > 0 && objects >= 0.9 * present && arrays === 0) draftObject(scope, path, key, h);
    else if (arrays > 0 && arrays === present) draftArray(scope, path, key, h);
    else if (objects + arrays > 0) addField(scope, key, path, h, { type: { kind: 'json' }, invalid: 0, why: `objects, arrays and plain values mixed (${describeTypes(h)}): JSON` });
    else addScalar(scope, key, path, h);
  }
}

function describeTypes(h: PathHistogram): string {
  return Object.entries(h.types).map(([t, n]) => `${t} ${n}`).join(', ');
}

function fieldName(scope: Scope, key: string): string {
  const base = camelName(scope.sourcePrefix === '' ? key : `${scope.sourcePrefix}${key}`);
  // A source key that is a name the model already uses for itself (`id`, `position`) keeps its value under `source…`.
  return unique(scope.taken.has(base) ? `source${base[0]!.toUpperCase()}${base.slice(1)}` : base, scope.taken);
}

function addField(scope: Scope, key: string, path: string, h: PathHistogram, d: TypeDecision, list = false): DraftField {
  const name = fieldName(scope, key);
  const missing = scope.containers - h.count;
  const nulls = h.types.null ?? 0;
  const presence = missing === 0 && nulls === 0 ? 'in every document' : `missing in ${pct(missing, scope.containers)}, null in ${pct(nulls, scope.containers)}`;
  const field: DraftField = {
    name,
    column: snakeName(name),
    source: `${scope.sourcePrefix}${key}`,
    type: d.type,
    list,
    required: list || (missing === 0 && nulls === 0 && d.invalid === 0 && d.type.kind !== 'json'),
    unique: false,
    profilePath: path,
    invalid: d.invalid,
    ...(d.assumeTimeZone ? { assumeTimeZone: d.assumeTimeZone } : {}),
    ...(d.epoch ? { epoch: d.epoch } : {}),
    why: [`${d.why}; ${presence}${d.example ? `; e.g. ${d.example}` : ''}`],
  };
  scope.model.fields.push(field);
  return field;
}

function addScalar(scope: Scope, key: string, path: string, h: PathHistogram): void {
  const p = scope.profile.values.get(path);
  if (!p || p.scalars === 0) {
    scope.model.leftInExtra.push(`${scope.sourcePrefix}${key} (always null)`);
    return;
  }
  const d = decideScalarType(p, key);
  const values = enumValues(p, key, d);
  if (values) {
    const name = unique(`${scope.model.name}${pascalName(`${scope.sourcePrefix}${key}`)}`, scope.modelNames);
    scope.enums.set(name, values);
    d.type = { kind: 'enum', name, values };
    d.why = `a closed set of ${values.length} strings`;
  }
  const field = addField(scope, key, path, h, d);
  const distinct = p.distinct?.size;
  if (!scope.isChild && distinct === p.scalars && p.scalars >= 2 && KEY_NAME.test(key) && ['text', 'int', 'bigint'].includes(d.type.kind) && d.invalid === 0) {
    field.unique = true;
    field.why.push(`unique: ${distinct} distinct values in ${p.scalars}, and the name says key`);
  }
}

function draftObject(scope: Scope, path: string, key: string, h: PathHistogram): void {
  const paths = scope.profile.histogram.paths;
  const subs = directPaths(paths, `${path}.`);
  const objects = h.types.object ?? 0;
  const common = subs.filter((s) => (paths[s]?.count ?? 0) >= 0.5 * objects).length;
  if (scope.depth < MAX_FLATTEN_DEPTH && subs.length > 0 && subs.length <= MAX_FLATTEN_KEYS && common >= subs.length / 2) {
    draftFields({ ...scope, pathPrefix: `${path}.`, sourcePrefix: `${scope.sourcePrefix}${key}.`, depth: scope.depth + 1 });
    return;
  }
  const why = subs.length > MAX_FLATTEN_KEYS || common < subs.length / 2 ? `a free-form object (${subs.length} different keys, ${common} in most of them): JSON` : `a nested object: JSON`;
  addField(scope, key, path, h, { type: { kind: 'json' }, invalid: 0, why });
}

function draftArray(scope: Scope, path: string, key: string, h: PathHistogram): void {
  const paths = scope.profile.histogram.paths;
  const el = paths[`${path}[]`];
  const json = (why: string) => addField(scope, key, path, h, { type: { kind: 'json' }, invalid: 0, why });
  if (!el) return void json('arrays, always empty: JSON');
  const objects = el.types.object ?? 0;
  if (objects === el.count) {
    if (scope.isChild || scope.depth > 0) return void json('an array of records inside a nested record: JSON');
    return draftChild(scope, path, key, el.count);
  }
  if (objects > 0 || (el.types.array ?? 0) > 0 || (el.types.null ?? 0) > 0) return void json(`arrays of mixed elements (${describeTypes(el)}): JSON`);
  const p = scope.profile.values.get(`${path}[]`);
  const d = p ? decideScalarType(p, singular(key)) : undefined;
  if (!d || d.invalid > 0 || d.type.kind === 'json') return void json(`arrays of values of several kinds (${describeTypes(el)}): JSON`);
  const field = addField(scope, key, path, h, { ...d, why: `arrays of ${d.why}: a scalar list` }, true);
  field.profilePath = `${path}[]`;
}

function draftChild(scope: Scope, path: string, key: string, elements: number): void {
  const name = unique(`${scope.model.name}${pascalName(singular(key))}`, scope.modelNames);
  // Named after the parent's table and the array: orders.items → order_items.
  const child = newModel(name, snakeName(`${singular(scope.model.table)} ${key}`), `${scope.profile.name}.${key}`, elements, true);
  child.comment.push(`the elements of "${scope.profile.name}.${key}" (${elements} records in ${scope.containers} documents): one row each, with the parent's id and the position`);
  const parentFk = `${camelName(scope.model.name)}Id`;
  child.fields.push(baseField('id', { kind: 'uuid' }, 'id', ['derived from the parent id and the position']));
  child.fields.push(baseField(parentFk, { kind: 'uuid' }, 'parent'));
  child.fields.push(baseField('position', { kind: 'int' }, 'position', ['index in the source array']));
  child.uniques.push([parentFk, 'position']);
  const taken = new Set(['id', parentFk, 'position', 'legacyExtra']);
  draftFields({ ...scope, model: child, pathPrefix: `${path}[].`, sourcePrefix: '', containers: elements, depth: 0, isChild: true, taken });
  child.fields.push(baseField('legacyExtra', { kind: 'json' }, 'extra', ['element fields no column maps']));
  scope.model.children.push({ model: child, from: `${scope.sourcePrefix}${key}` });
}
