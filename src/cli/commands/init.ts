/**
 * `hybrid-migrate init [collections...]` — drafts prisma/schema.prisma, hybrid-migrate.config.ts
 * and the first migration's SQL from the MongoDB data itself. Read-only on MongoDB; needs no
 * PostgreSQL (DATABASE_URL is not read).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { connectMongo, databaseInUri } from '../../source/mongo-source.js';
import { init, type InitResult } from '../../use-cases/init/init.js';
import { checkConnectionUrls } from '../context.js';
import type { CommandRuntime } from '../program.js';
import { formatDuration, formatInt, table } from '../render.js';
import { positiveInt } from './migrate.js';

interface InitFlags {
  sample?: number;
  models?: string;
  out: string;
  force?: boolean;
}

export function registerInit(program: Command, rt: CommandRuntime): void {
  program
    .command('init')
    .summary('draft the Prisma schema, the configuration and the migration SQL from the MongoDB data')
    .description(
      'Reads every document of the collections (read-only) and drafts, from what the data holds: prisma/schema.prisma ' +
        '(one model per collection, child models for arrays of records, relations where values are found among another ' +
        "collection's _ids or unique keys, types every value converts to), hybrid-migrate.config.ts (only what differs " +
        'from the defaults) and prisma/migrations/<timestamp>_init/migration.sql. Comments in both files say why. ' +
        'Never overwrites a file without --force. Reads MONGO_URI only; nothing is written to any database.',
    )
    .argument('[collections...]', 'collections to draft (default: every collection of the database)')
    .option('--sample <n>', 'read only the first n documents of each collection (faster, less certain; _ids are still read in full for references)', positiveInt('--sample', 100_000_000))
    .option('--models <dir|glob>', "the application's Mongoose model files (loaded without connecting): their declarations are checked against the data and reported; the draft follows the data where they disagree")
    .option('--out <dir>', 'directory to write into', '.')
    .option('--force', 'replace existing schema.prisma / hybrid-migrate.config.ts / migrations')
    .action(async (collections: string[], flags: InitFlags) => {
      const global = rt.global();
      if (!rt.env.MONGO_URI) throw new ConfigError([{ path: 'MONGO_URI', message: 'environment variable MONGO_URI is not set' }], { hint: 'Set MONGO_URI to the MongoDB database to draft from.' });
      checkConnectionUrls(rt.env, ['MONGO_URI']);
      if (!global.mongoDb && !databaseInUri(rt.env.MONGO_URI)) {
        throw new ConfigError([{ path: 'MONGO_URI', message: 'names no database, so init would draft from an arbitrary one' }], { hint: 'Put the database in MONGO_URI (mongodb://host:27017/shop) or pass --mongo-db shop.' });
      }
      const mongo = await connectMongo({ uri: rt.env.MONGO_URI, dbName: global.mongoDb, timeoutMs: 5000 });
      let result: InitResult;
      try {
        result = await init(mongo.db, {
          collections,
          outDir: resolve(flags.out),
          force: Boolean(flags.force),
          ...(flags.sample ? { sample: flags.sample } : {}),
          ...(flags.models ? { models: flags.models } : {}),
          signal: rt.signal,
          onCollection: (name, n) => rt.logger.info(`init: read ${name} (${n} documents)`),
        });
      } finally {
        await mongo.close().catch(() => undefined);
      }
      rt.stdout(rt.scrub(global.json ? `${JSON.stringify(result, null, 2)}\n` : renderInit(result, flags.out)));
    });
}

function renderInit(r: InitResult, out: string): string {
  const c = r.counts;
  const rows = r.collections.map((x) => [x.name, formatInt(x.documents), x.model, String(x.columns), x.childModels.join(', ') || '–', String(x.relations.length)]);
  const lines = [
    `Drafted from "${r.database}" in ${formatDuration(r.totalMs)}: ${c.models} models, ${c.childModels} child models, ${c.relations} relations, ${c.enums} enums.`,
    '',
    table(['collection', 'documents', 'model', 'fields', 'child models', 'relations'], rows),
    '',
    ...r.collections.flatMap((x) => x.relations.map((rel) => `  relation ${rel}`)),
    ...r.notRelations.map((n) => `  not a relation: ${n}`),
    ...(r.declarations.length > 0 ? ['', 'Mongoose models, checked against the data:', ...r.declarations.map((d) => `  ${d}`)] : []),
    '',
    'Wrote:',
    ...r.files.map((f) => `  ${f}`),
    '',
    'Next:',
    '  1. review prisma/schema.prisma and hybrid-migrate.config.ts (comments say why each choice was made)',
    '  2. apply the migration: npx prisma migrate deploy   (or, without Prisma\'s engine: psql "$DATABASE_URL" -f prisma/migrations/<name>/migration.sql)',
    `  3. npx hybrid-migrate plan${out === '.' ? '' : `   (from ${out})`}`,
    '  4. npx hybrid-migrate migrate, then npx hybrid-migrate verify',
  ];
  return `${lines.join('\n')}\n`;
}
