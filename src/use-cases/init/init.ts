/**
 * `init`: reads the MongoDB collections (read-only), drafts the Prisma schema, the
 * configuration and the migration SQL from the data, and writes them under `outDir` —
 * refusing to replace an existing file without `force`. Writes nothing to any database.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Db } from 'mongodb';
import { ConfigError } from '../../core/errors.js';
import { buildDraft, draftCounts, renderDraft } from './build-draft.js';
import { loadModelDeclarations, modelFiles } from './model-declarations.js';
import { listSourceCollections, scanForInit, type CollectionProfile } from './init-scan.js';

export interface InitOptions {
  collections: readonly string[];
  outDir: string;
  force: boolean;
  sample?: number;
  /** `--models`: the application's Mongoose model files (a directory or a `dir/*.js` pattern). */
  models?: string;
  signal: AbortSignal;
  /** Fixed migration name (tests); default `<UTC timestamp>_init`. */
  migrationName?: string;
  onCollection?: (name: string, documents: number) => void;
}

export interface InitResult {
  database: string;
  collections: { name: string; documents: number; model: string; columns: number; childModels: string[]; relations: string[] }[];
  counts: ReturnType<typeof draftCounts>;
  notRelations: string[];
  /** What the Mongoose models declared, confirmed or contradicted by the data. */
  declarations: string[];
  files: string[];
  scanMs: number;
  totalMs: number;
}

export function migrationTimestamp(now = new Date()): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export async function init(db: Db, opts: InitOptions): Promise<InitResult> {
  const started = performance.now();
  const names = await listSourceCollections(db, opts.collections);
  await checkNamed(db, opts.collections);
  if (names.length === 0) throw new ConfigError([{ path: 'collections', message: `MongoDB database "${db.databaseName}" has no collection to draft from` }], { hint: 'Check the database name in MONGO_URI (or --mongo-db).' });
  const files = outputFiles(opts.outDir, opts.migrationName ?? `${migrationTimestamp()}_init`);
  refuseOverwrite(opts.outDir, files, opts.force);
  const declarations = opts.models ? await loadModelDeclarations(modelFiles(opts.models)) : [];
  const profiles: CollectionProfile[] = [];
  for (const name of names) {
    profiles.push(await scanForInit(db, name, { signal: opts.signal, ...(opts.sample ? { sample: opts.sample } : {}) }));
    opts.onCollection?.(name, profiles[profiles.length - 1]!.documents);
  }
  const scanMs = performance.now() - started;
  const draft = buildDraft(profiles, declarations);
  const header = [`Drafted by "hybrid-migrate init" from MongoDB database "${db.databaseName}" (${profiles.reduce((n, p) => n + p.documents, 0)} documents${opts.sample ? `, first ${opts.sample} of each collection` : ''}).`, 'Review it: comments say why each choice was made.'];
  const texts = await renderDraft(draft, header);
  await writeOut(files, { schema: texts.schema, config: texts.config.text, sql: texts.sql });
  return {
    database: db.databaseName,
    collections: draft.models.map((m) => ({ name: m.collection, documents: m.documents, model: m.name, columns: m.fields.length, childModels: m.children.map((c) => c.model.name), relations: [m, ...m.children.map((c) => c.model)].flatMap((o) => o.fields.filter((f) => f.relation).map((f) => `${o.name}.${f.name} → ${f.relation?.targetModel}.${f.relation?.toField ?? 'id'} (${Math.round((f.relation?.rate ?? 0) * 1000) / 10}%)`)) })),
    counts: draftCounts(draft),
    notRelations: draft.notRelations,
    declarations: draft.declarations,
    files: Object.values(files).map((f) => relative(opts.outDir, f) || f),
    scanMs: Math.round(scanMs),
    totalMs: Math.round(performance.now() - started),
  };
}

async function checkNamed(db: Db, named: readonly string[]): Promise<void> {
  if (named.length === 0) return;
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  const missing = named.filter((n) => !existing.has(n));
  if (missing.length > 0) {
    throw new ConfigError(missing.map((n) => ({ path: n, message: `collection "${n}" does not exist in MongoDB database "${db.databaseName}"` })), { hint: `Collections there: ${[...existing].sort().join(', ') || '(none)'}.` });
  }
}

interface OutputFiles {
  schema: string;
  config: string;
  sql: string;
  lock: string;
}

function outputFiles(outDir: string, migrationName: string): OutputFiles {
  return {
    schema: join(outDir, 'prisma', 'schema.prisma'),
    config: join(outDir, 'hybrid-migrate.config.ts'),
    sql: join(outDir, 'prisma', 'migrations', migrationName, 'migration.sql'),
    lock: join(outDir, 'prisma', 'migrations', 'migration_lock.toml'),
  };
}

/** Existing files (or earlier migrations, which the new one would conflict with) stop init unless --force. */
function refuseOverwrite(outDir: string, files: OutputFiles, force: boolean): void {
  if (force) return;
  const migrations = join(outDir, 'prisma', 'migrations');
  const earlier = existsSync(migrations) ? readdirSync(migrations, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(migrations, d.name)) : [];
  const existing = [files.schema, files.config, ...earlier].filter((f) => existsSync(f));
  if (existing.length === 0) return;
  throw new ConfigError(existing.map((f) => ({ path: relative(outDir, f) || f, message: 'already exists; init does not overwrite it' })), {
    hint: 'Move those files aside, write the draft elsewhere with --out <dir>, or pass --force to replace them (earlier migrations are left where they are).',
  });
}

async function writeOut(files: OutputFiles, texts: { schema: string; config: string; sql: string }): Promise<void> {
  await mkdir(join(files.sql, '..'), { recursive: true });
  await writeFile(files.schema, texts.schema);
  await writeFile(files.config, texts.config);
  await writeFile(files.sql, texts.sql);
  if (!existsSync(files.lock)) await writeFile(files.lock, '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n');
}
