/**
 * From the collections' scans to the three texts init writes (schema, configuration,
 * migration SQL), checked before anything is written: the schema is parsed by Prisma's own
 * parser and the configuration resolved against it exactly as `migrate` will resolve it.
 */
import { resolveMapping, defaultModelFor } from '../../config/resolve-mapping.js';
import { ConfigError } from '../../core/errors.js';
import { parsePrismaSchema, type PrismaSchema } from '../../schema/prisma-schema.js';
import { renderMigrationSql } from '../../schema/render-migration-sql.js';
import { allModels, type Draft } from './draft.js';
import { draftCollection } from './draft-model.js';
import { draftRelations } from './draft-relations.js';
import type { CollectionProfile } from './init-scan.js';
import { renderConfig, type RenderedConfig } from './render-config.js';
import { renderSchema } from './render-schema.js';
import { unique } from './naming.js';
import { applyDeclarations } from './apply-declarations.js';
import type { ModelDeclaration } from './model-declarations.js';

export interface DraftTexts {
  draft: Draft;
  schema: string;
  config: RenderedConfig;
  sql: string;
}

export function buildDraft(profiles: readonly CollectionProfile[], declarations: readonly ModelDeclaration[] = []): Draft {
  const modelNames = new Set<string>();
  const enums = new Map<string, string[]>();
  const draft: Draft = { models: profiles.map((p) => draftCollection(p, modelNames, enums)), enums, notRelations: [], declarations: [] };
  const byName = new Map(profiles.map((p) => [p.name, p]));
  draftRelations(draft, byName);
  applyDeclarations(draft, byName, declarations);
  uniqueIdentifiers(draft);
  return draft;
}

/** PostgreSQL's limit: longer identifiers are truncated (and could then collide). */
const MAX_IDENTIFIER = 63;

/**
 * Table names unique in the database (collections' tables first: a child table named like a
 * collection gets the suffix) and column names unique in each table, within PostgreSQL's length.
 */
function uniqueIdentifiers(draft: Draft): void {
  const tables = new Set<string>();
  const children = draft.models.flatMap((m) => m.children.map((c) => c.model));
  for (const m of [...draft.models, ...children]) {
    m.table = unique(m.table.slice(0, MAX_IDENTIFIER - 3), tables);
    const columns = new Set<string>();
    for (const f of m.fields) f.column = unique(f.column.slice(0, MAX_IDENTIFIER - 3), columns);
  }
}

/** Renders and checks the draft; a foreign-key cycle through required references is broken by making them optional (written in a second pass). */
export async function renderDraft(draft: Draft, header: readonly string[], schemaPath = 'prisma/schema.prisma'): Promise<DraftTexts> {
  relaxCycles(draft);
  const rendered = renderChecked(draft, header, schemaPath);
  if (rendered.issues.length > 0) {
    throw new ConfigError(rendered.issues, { hint: 'init drafted a configuration the migration cannot use: please report it with the collection shapes (this is a bug in init).' });
  }
  const sql = await renderMigrationSql(rendered.schema, schemaPath);
  return { draft, schema: rendered.schema, config: rendered.config, sql };
}

/**
 * A required reference that is part of a cycle of required references (workspace.owner →
 * users, user.workspaceId → workspaces) becomes optional: migrate writes it in a second pass.
 */
function relaxCycles(draft: Draft): void {
  const edges = new Map<string, Set<string>>();
  const required = draft.models.flatMap((m) => m.fields.filter((f) => f.relation && f.required).map((f) => ({ m, f })));
  for (const { m, f } of required) {
    const to = edges.get(m.collection) ?? new Set<string>();
    to.add(f.relation!.targetCollection);
    edges.set(m.collection, to);
  }
  const reaches = (from: string, goal: string, seen = new Set<string>()): boolean => {
    if (from === goal) return true;
    if (seen.has(from)) return false;
    seen.add(from);
    return [...(edges.get(from) ?? [])].some((next) => reaches(next, goal, seen));
  };
  for (const { m, f } of required) {
    if (!reaches(f.relation!.targetCollection, m.collection)) continue;
    f.required = false;
    f.why.push('optional so that the foreign-key cycle it is part of can be written in a second pass');
  }
}

function renderChecked(draft: Draft, header: readonly string[], schemaPath: string) {
  const schema = renderSchema(draft, header);
  const parsed: PrismaSchema = parsePrismaSchema(schema, schemaPath);
  const config = renderConfig(draft.models, schemaPath, header, (m) => defaultModelFor(m.collection, parsed)?.name !== m.name);
  const { issues } = resolveMapping(config.config, parsed);
  return { schema, config, issues };
}

/** Counts for the summary and the note: models, relations, child models, enums. */
export function draftCounts(draft: Draft): { models: number; childModels: number; relations: number; enums: number; columns: number } {
  const models = allModels(draft);
  return {
    models: draft.models.length,
    childModels: models.length - draft.models.length,
    relations: models.reduce((n, m) => n + m.fields.filter((f) => f.relation).length, 0),
    enums: draft.enums.size,
    columns: models.reduce((n, m) => n + m.fields.length, 0),
  };
}
