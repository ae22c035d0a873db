/**
 * The Mongoose models' declarations checked against the full scan: each `ref`, type,
 * `required`, `unique` and `enum` is confirmed or contradicted by the data, both are reported
 * (in the field's comment and in init's summary), and the draft follows the data where they
 * disagree. What the data cannot say is taken from the models: a `ref` to a collection with
 * no documents yet, an `enum` every value respects, a declared path no document has yet.
 */
import type { Draft, DraftField, DraftModel } from './draft.js';
import type { DraftType } from './draft-types.js';
import type { CollectionProfile } from './init-scan.js';
import type { DeclaredPath, ModelDeclaration } from './model-declarations.js';
import { makeForeignKey, RELATION_THRESHOLD } from './draft-relations.js';
import { camelName, snakeName, unique } from './naming.js';

const FAMILIES: Record<string, readonly DraftType['kind'][]> = {
  String: ['text', 'enum', 'uuid'],
  Number: ['int', 'bigint', 'float', 'decimal'],
  Decimal128: ['decimal'],
  Date: ['timestamp'],
  Boolean: ['boolean'],
  ObjectId: ['uuid', 'text'],
  Mixed: ['json'],
  Map: ['json'],
};

const pct = (r: number) => `${Math.round(r * 1000) / 10}%`;

interface Context {
  draft: Draft;
  profiles: ReadonlyMap<string, CollectionProfile>;
  /** Mongoose model name → collection. */
  collectionOf: ReadonlyMap<string, string>;
}

export function applyDeclarations(draft: Draft, profiles: ReadonlyMap<string, CollectionProfile>, declarations: readonly ModelDeclaration[]): void {
  const ctx: Context = { draft, profiles, collectionOf: new Map(declarations.map((d) => [d.model, d.collection])) };
  for (const d of declarations) {
    const model = draft.models.find((m) => m.collection === d.collection);
    if (!model) {
      draft.declarations.push(`${d.model} (${d.file}): collection "${d.collection}" was not drafted (not in MongoDB or not asked for)`);
      continue;
    }
    model.comment.push(`declared by the Mongoose model ${d.model}${d.timestamps ? ' (timestamps)' : ''}`);
    for (const [path, declared] of d.paths) {
      if (path === '_id' || path === '__v') continue;
      checkPath(ctx, d, model, path, declared);
    }
  }
}

function note(ctx: Context, d: ModelDeclaration, field: DraftField | undefined, text: string): void {
  field?.why.push(`model ${d.model}: ${text}`);
  ctx.draft.declarations.push(`${d.model}.${text}`);
}

function checkPath(ctx: Context, d: ModelDeclaration, model: DraftModel, path: string, declared: DeclaredPath): void {
  const field = model.fields.find((f) => f.source === path && f.role === undefined);
  const child = model.children.find((c) => c.from === path);
  if (child) return void note(ctx, d, undefined, `${path}: array of ${declared.elementType ?? 'values'}, drafted as child model ${child.model.name} (confirmed)`);
  if (!field) return void undeclaredInData(ctx, d, model, path, declared);
  checkType(ctx, d, field, path, declared);
  if (declared.ref) checkRef(ctx, d, model, field, path, declared.ref);
  if (declared.required && !field.required && !field.relation) note(ctx, d, field, `${path}: declared required, but the data has documents without it: optional`);
  if (declared.unique && !field.unique) note(ctx, d, field, `${path}: declared unique, but the data has duplicate values (or its name does not say key): no @unique`);
  if (declared.enum) checkEnum(ctx, d, model, field, path, declared.enum);
}

function checkType(ctx: Context, d: ModelDeclaration, field: DraftField, path: string, declared: DeclaredPath): void {
  const type = declared.type === 'Array' ? declared.elementType ?? 'Mixed' : declared.type;
  const family = FAMILIES[type];
  if (!family) return;
  if (!family.includes(field.type.kind)) note(ctx, d, field, `${path}: declared ${type}, but the data holds other values: drafted as ${field.type.kind} (follows the data)`);
  else if (field.invalid > 0) note(ctx, d, field, `${path}: declared ${type}, but ${field.invalid} value(s) are not: kept in legacyExtra`);
  else note(ctx, d, undefined, `${path}: declared ${type} (confirmed)`);
}

function checkRef(ctx: Context, d: ModelDeclaration, model: DraftModel, field: DraftField, path: string, ref: string): void {
  const collection = ctx.collectionOf.get(ref) ?? `${ref.toLowerCase()}s`;
  const target = ctx.draft.models.find((m) => m.collection === collection);
  if (field.relation?.targetCollection === collection) return void note(ctx, d, field, `${path}: ref ${ref} (confirmed: ${pct(field.relation.rate)} found)`);
  if (!target) return void note(ctx, d, field, `${path}: ref ${ref}, but collection "${collection}" was not drafted: no relation`);
  const ids = ctx.profiles.get(collection)?.ids;
  const values = ctx.profiles.get(model.collection)?.values.get(field.profilePath);
  if (!ids || ids.size === 0 || !values?.distinct) {
    // Nothing to check against yet: the declaration decides.
    if (!field.relation && field.type.kind === 'uuid') {
      makeForeignKey(model, field, { target: { model: target, keys: new Set(), label: `${collection}._id` }, rate: 0 }, true, values?.scalars ?? 0);
      field.why.push(`model ${d.model}: ref ${ref}; "${collection}" has no documents to confirm it: a relation from the declaration`);
    }
    return;
  }
  let found = 0;
  for (const [key, n] of values.distinct) if (ids.has(key)) found += n;
  const rate = values.scalars === 0 ? 0 : found / values.scalars;
  note(ctx, d, field, `${path}: ref ${ref}, but only ${pct(rate)} of its values are found in ${collection}._id${rate < RELATION_THRESHOLD ? ': not a relation (follows the data)' : ''}`);
}

function checkEnum(ctx: Context, d: ModelDeclaration, model: DraftModel, field: DraftField, path: string, allowed: readonly string[]): void {
  const distinct = ctx.profiles.get(model.collection)?.values.get(field.profilePath)?.distinct;
  const seen = distinct ? [...distinct.keys()].filter((k) => k.startsWith('str:')).map((k) => k.slice(4)) : undefined;
  const outside = seen?.filter((v) => !allowed.includes(v)) ?? [];
  if (outside.length > 0) return void note(ctx, d, field, `${path}: declared enum [${allowed.join(', ')}], but the data also holds ${outside.slice(0, 5).map((v) => JSON.stringify(v)).join(', ')}: ${field.type.kind === 'enum' ? 'enum of the values seen' : 'text'} (follows the data)`);
  const usable = allowed.every((v) => /^[A-Za-z][A-Za-z0-9_]*$/.test(v));
  if (field.type.kind === 'text' && field.invalid === 0 && usable && seen !== undefined && distinct?.size === seen.length) {
    const name = unique(`${model.name}${camelName(path).replace(/^./, (c) => c.toUpperCase())}`, new Set([...ctx.draft.enums.keys(), ...ctx.draft.models.map((m) => m.name)]));
    ctx.draft.enums.set(name, [...allowed]);
    field.type = { kind: 'enum', name, values: [...allowed] };
  }
  note(ctx, d, field, `${path}: declared enum [${allowed.join(', ')}] (confirmed: every value is one of them)`);
}

const DECLARED_TYPES: Record<string, DraftType> = {
  String: { kind: 'text' },
  Number: { kind: 'float' },
  Decimal128: { kind: 'decimal', precision: 38, scale: 10 },
  Date: { kind: 'timestamp' },
  Boolean: { kind: 'boolean' },
  ObjectId: { kind: 'uuid' },
};

/** A declared path no drafted column holds: a column of the declared type when no document has it yet; else it stays in legacyExtra (too rare or not scalar), said. */
function undeclaredInData(ctx: Context, d: ModelDeclaration, model: DraftModel, path: string, declared: DeclaredPath): void {
  const seen = ctx.profiles.get(model.collection)?.histogram.paths[path];
  if (seen) return void note(ctx, d, undefined, `${path}: declared, present in ${seen.count} document(s): left in legacyExtra`);
  const type = declared.type === 'Array' ? undefined : DECLARED_TYPES[declared.type] ?? { kind: 'json' };
  const taken = new Set(model.fields.map((f) => f.name));
  const name = unique(camelName(path), taken);
  const field: DraftField = { name, column: snakeName(name), source: path, type: type ?? { kind: 'json' }, list: false, required: false, unique: false, profilePath: path, invalid: 0, why: [`model ${d.model}: declared ${declared.type}, not seen in the data yet: an optional column`] };
  model.fields.splice(model.fields.length - 1, 0, field);
  ctx.draft.declarations.push(`${d.model}.${path}: declared ${declared.type}, in no document: optional column ${model.name}.${name}`);
  if (declared.ref && declared.type === 'ObjectId') checkRef(ctx, d, model, field, path, declared.ref);
}
