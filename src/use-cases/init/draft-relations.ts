/**
 * Relations between drafted models: a field whose values are found among another
 * collection's `_id`s, or among the values of another collection's unique key field (an
 * e-mail, an account number), becomes a foreign key — when at least RELATION_THRESHOLD of
 * its values are found. An array of such values becomes a child model of references. Pure.
 */
import type { CollectionProfile } from './init-scan.js';
import type { Draft, DraftField, DraftModel } from './draft.js';
import { baseField } from './draft-model.js';
import { camelName, lowerFirst, pascalName, plural, singular, snakeName, unique } from './naming.js';

/** Share of a field's values that must be found in the referenced collection for a relation. */
export const RELATION_THRESHOLD = 0.9;
/** Below the threshold but above this share, the near miss is reported in a comment. */
const REPORT_THRESHOLD = 0.3;
const KEYISH = /(id|Id|ID|key|Key|code|Code|email|Email|number|Number|no|ref|Ref|sku|username)s?$/;

export interface Target {
  model: DraftModel;
  field?: DraftField;
  keys: ReadonlySet<string> | ReadonlyMap<string, number>;
  label: string;
}

export interface Match {
  target: Target;
  rate: number;
}

const pct = (r: number) => `${Math.round(r * 1000) / 10}%`;

/** Adds the relations the data supports to the draft's fields, child relations included. */
export function draftRelations(draft: Draft, profiles: ReadonlyMap<string, CollectionProfile>): void {
  const targets = collectTargets(draft, profiles);
  for (const model of draft.models) {
    const profile = profiles.get(model.collection);
    if (!profile) continue;
    for (const owner of [model, ...model.children.map((c) => c.model)]) {
      for (const field of [...owner.fields]) relateField(draft, model, owner, field, profile, targets);
    }
  }
}

function collectTargets(draft: Draft, profiles: ReadonlyMap<string, CollectionProfile>): Target[] {
  const out: Target[] = [];
  for (const model of draft.models) {
    const profile = profiles.get(model.collection);
    if (!profile) continue;
    out.push({ model, keys: profile.ids, label: `${model.collection}._id` });
    for (const field of model.fields) {
      const distinct = profile.values.get(field.profilePath)?.distinct;
      if (field.unique && distinct) out.push({ model, field, keys: distinct, label: `${model.collection}.${field.source}` });
    }
  }
  return out;
}

function relateField(draft: Draft, model: DraftModel, owner: DraftModel, field: DraftField, profile: CollectionProfile, targets: readonly Target[]): void {
  // A field with values its type cannot take would have them rejected as a foreign key (they cannot go to legacyExtra).
  if (field.role !== undefined || field.relation || field.invalid > 0 || !['uuid', 'text', 'int', 'bigint'].includes(field.type.kind)) return;
  const values = profile.values.get(field.profilePath);
  if (!values?.distinct || values.scalars === 0) return;
  const allObjectIds = field.type.kind === 'uuid' || [...values.distinct.keys()].every((k) => k.startsWith('oid:'));
  const best = bestMatch(field, owner, values.distinct, values.scalars, targets, allObjectIds);
  if (!best) return;
  if (best.rate < RELATION_THRESHOLD) {
    if (best.rate >= REPORT_THRESHOLD) {
      const note = `${pct(best.rate)} of its values found in ${best.target.label}: below ${pct(RELATION_THRESHOLD)}, not a relation`;
      field.why.push(note);
      draft.notRelations.push(`${owner.name}.${field.name}: ${note}`);
    }
    return;
  }
  if (field.list) return void listToChild(model, owner, field, best, allObjectIds);
  makeForeignKey(owner, field, best, allObjectIds, values.scalars);
}

function bestMatch(field: DraftField, owner: DraftModel, distinct: ReadonlyMap<string, number>, total: number, targets: readonly Target[], objectIds: boolean): Match | undefined {
  let best: Match | undefined;
  for (const target of targets) {
    if (target.field && (target.model === owner && target.field === field)) continue;
    // A field holding each of its own collection's `_id`s exactly once is the id written twice
    // (zips.zip beside _id: the zip), not a tree: a parent repeats, a link is missing somewhere.
    if (!target.field && target.model === owner && distinct.size === total && total === target.keys.size) continue;
    if (target.field && !sameKind(field, target.field)) continue;
    // Plain values (numbers, strings) are only compared with a key whose name or collection the field's name points to.
    if (!objectIds && !namesRelate(field, owner, target)) continue;
    let found = 0;
    for (const [key, n] of distinct) if (target.keys.has(key)) found += n;
    const rate = found / total;
    if (!best || rate > best.rate || (rate === best.rate && !target.field && best.target.field)) best = { target, rate };
  }
  return best;
}

function sameKind(field: DraftField, target: DraftField): boolean {
  const k = (f: DraftField) => (f.type.kind === 'int' || f.type.kind === 'bigint' ? 'integer' : f.type.kind);
  return k(field) === k(target);
}

function namesRelate(field: DraftField, owner: DraftModel, target: Target): boolean {
  const key = (field.source.split('.').pop() ?? '').toLowerCase();
  const collection = target.model.collection.toLowerCase();
  const refersToCollection = [collection, singular(collection)].some((c) => key.replace(/_/g, '').startsWith(c.replace(/_/g, '')));
  // parent, parentId, parent_category in a collection: a tree of its own documents.
  if (target.model === owner && /^parent/i.test(key) && !target.field) return true;
  // A key of its own collection (unique there) refers to another one only when its name says so: accounts.account_id is not a reference to transactions.account_id.
  if (field.unique) return refersToCollection;
  const sameName = target.field !== undefined && key === (target.field.source.split('.').pop() ?? '').toLowerCase();
  return refersToCollection || sameName || (KEYISH.test(field.source) && target.field !== undefined);
}

/** A unique foreign key is one-to-one: its back side is one row (`transactionByAccountId`), else a list (`commentsByMovieId`). */
function relationFields(owner: DraftModel, fkName: string, target: DraftModel, oneToOne: boolean): { field: string; name: string; backField: string } {
  const base = fkName.replace(/(Id|_id|ID)$/, '') || lowerFirst(target.name);
  const field = base === fkName ? `${base}${target.name}` : base;
  // A scalar already named like the relation (old orders' product name beside productId) keeps it: the relation is `productRef`.
  const scalarNames = new Set(owner.fields.map((f) => f.name));
  const rows = oneToOne ? lowerFirst(owner.name) : lowerFirst(plural(owner.name));
  return { field: scalarNames.has(field) ? `${field}Ref` : field, name: `${owner.name}_${fkName}`, backField: `${rows}By${pascalName(fkName)}` };
}

export function makeForeignKey(owner: DraftModel, field: DraftField, best: Match, objectIds: boolean, scalars: number): void {
  const { target, rate } = best;
  if (!target.field) {
    field.type = { kind: 'uuid' };
    if (!/(Id|_id|ID)$/.test(field.name)) {
      // `user` → `userId`, unless the model has a `userId` already (both fields holding the
      // reference, as some applications keep): then `userRefId`, `userRefId2`….
      const taken = new Set(owner.fields.filter((f) => f !== field).map((f) => f.name));
      field.name = taken.has(`${field.name}Id`) ? unique(`${field.name}RefId`, taken) : `${field.name}Id`;
      field.column = snakeName(field.name);
    }
  } else field.type = target.field.type;
  // A reference written in a second pass (a cycle, or to its own collection) must be optional; so must one with dangling values.
  field.required = field.required && rate === 1 && target.model !== owner;
  field.invalid = 0;
  field.relation = { targetModel: target.model.name, targetCollection: target.model.collection, rate, ...relationFields(owner, field.name, target.model, field.unique), ...(target.field ? { toField: target.field.name } : {}) };
  field.why.push(`${objectIds ? 'ObjectIds' : 'values'}: ${pct(rate)} of ${scalars} found in ${target.label}: a relation${rate < 1 ? ' (the others are orphans, kept in legacyExtra.$orphans)' : ''}`);
}

/** accounts + accountId → accountId; users + email → userEmail. */
function businessKeyName(collection: string, field: string): string {
  const owner = camelName(singular(collection));
  return field.toLowerCase().startsWith(owner.toLowerCase()) ? field : camelName(`${owner} ${field}`);
}

/** An array of references (`accounts: [371138, …]`, `tags: [ObjectId, …]`) becomes a child model holding one reference per element. */
function listToChild(model: DraftModel, owner: DraftModel, field: DraftField, best: Match, objectIds: boolean): void {
  if (owner !== model) return; // arrays of references inside array elements stay scalar lists
  const taken = new Set(model.children.map((c) => c.model.name));
  const element = singular(field.source.split('.').pop() ?? field.name).replace(/(?<=[a-z])(Id|_id|ID)$/, '');
  const name = unique(`${model.name}${pascalName(element)}`, taken);
  const child: DraftModel = { name, table: snakeName(`${singular(model.table)} ${field.source}`), collection: `${model.collection}.${field.source}`, documents: 0, fields: [], children: [], leftInExtra: [], comment: [`the elements of "${model.collection}.${field.source}": one row per reference, with the parent's id and the position`], uniques: [], isChild: true };
  const parentFk = `${camelName(model.name)}Id`;
  child.fields.push(baseField('id', { kind: 'uuid' }, 'id', ['derived from the parent id and the position']), baseField(parentFk, { kind: 'uuid' }, 'parent'), baseField('position', { kind: 'int' }, 'position', ['index in the source array']));
  const valueName = best.target.field ? businessKeyName(best.target.model.collection, best.target.field.name) : `${camelName(element)}Id`;
  const value: DraftField = { ...field, name: valueName, column: snakeName(valueName), source: '', list: false, required: true, why: [...field.why] };
  child.fields.push(value, baseField('legacyExtra', { kind: 'json' }, 'extra'));
  child.uniques.push([parentFk, 'position']);
  makeForeignKey(child, value, best, objectIds, 0);
  value.why[value.why.length - 1] = value.why[value.why.length - 1]!.replace(' of 0 ', ' ');
  model.fields.splice(model.fields.indexOf(field), 1);
  model.children.push({ model: child, from: field.source, valueField: valueName });
}
