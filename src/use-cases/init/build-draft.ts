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

export interface DraftTexts {
  draft: Draft;
  schema: string;
  config: RenderedConfig;
  sql: string;
}

export function buildDraft(profiles: readonly CollectionProfile[]): Draft {
  const modelNames = new Set<string>();
  const enums = new Map<string, string[]>();
  const draft: Draft = { models: profiles.map((p) => draftCollection(p, modelNames, enums)), enums, notRelations: [] };
  draftRelations(draft, new Map(profiles.map((p) => [p.name, p])));
  return draft;
}

/** Renders and checks the draft; a foreign-key cycle through required references is broken by making them optional (written in a second pass). */
export async function renderDraft(draft: Draft, header: readonly string[], schemaPath = 'prisma/schema.prisma'): Promise<DraftTexts> {
  let rendered = renderChecked(draft, header, schemaPath);
  for (let attempt = 0; attempt < 5; attempt++) {
    const cycle = rendered.issues.map((i) => /^collections (.+) reference each other through required foreign keys/.exec(i.message)?.[1]).find((c) => c !== undefined);
    if (cycle === undefined) break;
    breakCycle(draft, new Set(cycle.split(', ')));
    rendered = renderChecked(draft, header, schemaPath);
  }
  if (rendered.issues.length > 0) {
    throw new ConfigError(rendered.issues, { hint: 'init drafted a configuration the migration cannot use: please report it with the collection shapes (this is a bug in init).' });
  }
  const sql = await renderMigrationSql(rendered.schema, schemaPath);
  return { draft, schema: rendered.schema, config: rendered.config, sql };
}

/** The required references between the collections of a cycle become optional: migrate writes them in a second pass. */
function breakCycle(draft: Draft, collections: ReadonlySet<string>): void {
  for (const m of draft.models) {
    if (!collections.has(m.collection)) continue;
    for (const f of m.fields) {
      if (!f.relation || !f.required || !collections.has(f.relation.targetCollection)) continue;
      f.required = false;
      f.why.push('optional so that the foreign-key cycle it is part of can be written in a second pass');
    }
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
