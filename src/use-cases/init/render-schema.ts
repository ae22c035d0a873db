/**
 * The draft as a Prisma schema (PostgreSQL): one model per collection and per array of
 * records, `@@map`/`@map` to snake_case, a comment above each field saying why. Pure.
 */
import type { Draft, DraftField, DraftModel } from './draft.js';
import { allModels } from './draft.js';
import type { DraftType } from './draft-types.js';
import { camelName, lowerFirst, plural, unique } from './naming.js';

interface RelationLine {
  owner: string;
  line: string;
}

function prismaType(t: DraftType): { type: string; native: string } {
  switch (t.kind) {
    case 'uuid':
      return { type: 'String', native: ' @db.Uuid' };
    case 'text':
      return { type: 'String', native: '' };
    case 'int':
      return { type: 'Int', native: '' };
    case 'bigint':
      return { type: 'BigInt', native: '' };
    case 'float':
      return { type: 'Float', native: '' };
    case 'decimal':
      return { type: 'Decimal', native: ` @db.Decimal(${t.precision}, ${t.scale})` };
    case 'boolean':
      return { type: 'Boolean', native: '' };
    case 'timestamp':
      return { type: 'DateTime', native: ' @db.Timestamptz(3)' };
    case 'json':
      return { type: 'Json', native: '' };
    case 'enum':
      return { type: t.name, native: '' };
  }
}

function fieldLine(f: DraftField): string {
  const { type, native } = prismaType(f.type);
  const suffix = f.list ? '[]' : f.required ? '' : '?';
  const attrs = [f.role === 'id' ? '@id @default(uuid(7))' : '', f.unique ? '@unique' : '', f.column !== f.name ? `@map("${f.column}")` : ''].filter(Boolean).join(' ');
  return `${f.name} ${type}${suffix}${attrs ? ` ${attrs}` : ''}${native}`;
}

/** The relation lines of every model: the foreign key's side and the back side, with names unique in each model. */
function relationLines(draft: Draft): RelationLine[] {
  const taken = new Map(allModels(draft).map((m) => [m.name, new Set(m.fields.map((f) => f.name))]));
  const out: RelationLine[] = [];
  for (const parent of draft.models) {
    for (const child of parent.children) {
      const fk = child.model.fields.find((f) => f.role === 'parent') as DraftField;
      const field = unique(lowerFirst(parent.name), taken.get(child.model.name) as Set<string>);
      // The array's own name (already plural: items, accounts) is the natural name of its rows.
      const back = unique(camelName(child.from.split('.').pop() ?? plural(child.model.name)), taken.get(parent.name) as Set<string>);
      out.push({ owner: child.model.name, line: `${field} ${parent.name} @relation("${child.model.name}_parent", fields: [${fk.name}], references: [id], onDelete: Cascade)` });
      out.push({ owner: parent.name, line: `${back} ${child.model.name}[] @relation("${child.model.name}_parent")` });
    }
  }
  for (const model of allModels(draft)) {
    for (const f of model.fields) {
      const r = f.relation;
      if (!r) continue;
      const field = unique(r.field, taken.get(model.name) as Set<string>);
      const back = unique(r.backField, taken.get(r.targetModel) ?? new Set());
      out.push({ owner: model.name, line: `${field} ${r.targetModel}${f.required ? '' : '?'} @relation("${r.name}", fields: [${f.name}], references: [${r.toField ?? 'id'}])` });
      // A unique foreign key is a one-to-one relation: the back side is a single optional row.
      out.push({ owner: r.targetModel, line: `${back} ${model.name}${f.unique ? '?' : '[]'} @relation("${r.name}")` });
    }
  }
  return out;
}

function comment(lines: readonly string[], indent: string): string[] {
  return lines.map((l) => `${indent}// ${l.replace(/\n/g, ' ')}`);
}

function renderModel(m: DraftModel, relations: readonly RelationLine[]): string {
  const lines = [...comment(m.comment, ''), ...(m.leftInExtra.length > 0 ? comment([`left in legacyExtra (present in too few documents): ${m.leftInExtra.join(', ')}`], '') : []), `model ${m.name} {`];
  for (const f of m.fields) lines.push(...comment(f.why, '  '), `  ${fieldLine(f)}`);
  const own = relations.filter((r) => r.owner === m.name);
  if (own.length > 0) lines.push('', ...own.map((r) => `  ${r.line}`));
  lines.push('');
  for (const u of m.uniques) lines.push(`  @@unique([${u.join(', ')}])`);
  lines.push(`  @@map("${m.table}")`, '}');
  return lines.join('\n');
}

export function renderSchema(draft: Draft, header: readonly string[]): string {
  const relations = relationLines(draft);
  const parts = [
    comment(header, '').join('\n'),
    `generator client {\n  provider = "prisma-client"\n  output   = "../generated/prisma"\n}`,
    `datasource db {\n  provider = "postgresql"\n}`,
    ...[...draft.enums].map(([name, values]) => `enum ${name} {\n${values.map((v) => `  ${v}`).join('\n')}\n}`),
    ...allModels(draft).map((m) => renderModel(m, relations)),
  ];
  return `${parts.join('\n\n')}\n`;
}
