/**
 * The draft as `hybrid-migrate.config.ts`: every collection, with only what differs from
 * the defaults (renamed paths, child mappings, onInvalid, assumeTimeZone, epoch), each with
 * a comment giving the counts behind it. Returns the configuration object too, so init can
 * resolve it against the drafted schema before writing anything. Pure.
 */
import type { ChildMapping, CollectionConfig, FieldMapping, FieldSetting, HybridMigrateConfig } from '../../config/define-config.js';
import type { DraftField, DraftModel } from './draft.js';

interface Commented<T> {
  value: T;
  comment?: string;
}

export interface RenderedConfig {
  config: HybridMigrateConfig;
  text: string;
}

function fieldSetting(f: DraftField): FieldSetting | undefined {
  const options: FieldMapping = {};
  if (f.source !== f.name) options.from = f.source;
  if (f.invalid > 0) options.onInvalid = 'extra';
  if (f.assumeTimeZone) options.assumeTimeZone = f.assumeTimeZone;
  if (f.epoch) options.epoch = f.epoch;
  const keys = Object.keys(options);
  if (keys.length === 0) return undefined;
  return keys.length === 1 && options.from !== undefined ? options.from : options;
}

function fieldSettings(model: DraftModel): Record<string, Commented<FieldSetting>> {
  const out: Record<string, Commented<FieldSetting>> = {};
  for (const f of model.fields) {
    if (f.role !== undefined || f.source === '') continue;
    const setting = fieldSetting(f);
    if (setting !== undefined) out[f.name] = { value: setting, comment: f.why.join('; ') };
  }
  return out;
}

function plain<T>(entries: Record<string, Commented<T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, v.value]));
}

export function collectionConfig(model: DraftModel, needsModel: boolean): { config: CollectionConfig; fields: Record<string, Commented<FieldSetting>>; children: { child: ChildMapping; fields: Record<string, Commented<FieldSetting>> }[] } {
  const fields = fieldSettings(model);
  const children = model.children.map((c) => {
    const childFields = fieldSettings(c.model);
    const child: ChildMapping = { model: c.model.name, from: c.from, ...(Object.keys(childFields).length > 0 ? { fields: plain(childFields) } : {}), ...(c.valueField ? { valueField: c.valueField } : {}) };
    return { child, fields: childFields };
  });
  const config: CollectionConfig = {
    ...(needsModel ? { model: model.name } : {}),
    ...(Object.keys(fields).length > 0 ? { fields: plain(fields) } : {}),
    ...(children.length > 0 ? { children: children.map((c) => c.child) } : {}),
  };
  return { config, fields, children };
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (k: string) => (IDENT.test(k) ? k : JSON.stringify(k));
const literal = (v: unknown) => JSON.stringify(v).replace(/"([A-Za-z_$][A-Za-z0-9_$]*)":/g, '$1: ').replace(/,"/g, ', "').replace(/,(?=[A-Za-z_$])/g, ', ');

function renderFields(fields: Record<string, Commented<FieldSetting>>, indent: string): string[] {
  const lines: string[] = [];
  for (const [name, { value, comment }] of Object.entries(fields)) {
    if (comment) lines.push(`${indent}// ${comment.replace(/\n/g, ' ')}`);
    lines.push(`${indent}${key(name)}: ${literal(value)},`);
  }
  return lines;
}

function renderCollection(name: string, model: DraftModel, needsModel: boolean): string[] {
  const { fields, children } = collectionConfig(model, needsModel);
  const lines = [`    // ${model.comment.join('; ')}`, `    ${key(name)}: {`];
  if (needsModel) lines.push(`      model: ${JSON.stringify(model.name)},`);
  if (Object.keys(fields).length > 0) lines.push('      fields: {', ...renderFields(fields, '        '), '      },');
  if (children.length > 0) {
    lines.push('      children: [');
    for (const { child, fields: childFields } of children) {
      lines.push(`        {`, `          model: ${JSON.stringify(child.model)},`, `          from: ${JSON.stringify(child.from)},`);
      if (child.valueField) lines.push(`          valueField: ${JSON.stringify(child.valueField)},`);
      if (Object.keys(childFields).length > 0) lines.push('          fields: {', ...renderFields(childFields, '            '), '          },');
      lines.push('        },');
    }
    lines.push('      ],');
  }
  lines.push('    },');
  return lines;
}

/** `needsModel(model)`: whether the collection's model is not found by default (table or singular name). */
export function renderConfig(models: readonly DraftModel[], schemaPath: string, header: readonly string[], needsModel: (m: DraftModel) => boolean): RenderedConfig {
  const collections = Object.fromEntries(models.map((m) => [m.collection, collectionConfig(m, needsModel(m)).config]));
  const lines = [
    ...header.map((h) => `// ${h}`),
    `import type { HybridMigrateConfig } from 'hybrid-migrate';`,
    '',
    'const config: HybridMigrateConfig = {',
    `  schema: ${JSON.stringify(schemaPath)},`,
    '  collections: {',
    ...models.flatMap((m) => renderCollection(m.collection, m, needsModel(m))),
    '  },',
    '};',
    '',
    'export default config;',
    '',
  ];
  return { config: { schema: schemaPath, collections }, text: lines.join('\n') };
}
