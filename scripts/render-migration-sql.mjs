#!/usr/bin/env node
// Renders the SQL of a Prisma migration from an empty database to prisma/schema.prisma,
// offline, with Prisma's schema engine compiled to WebAssembly. This is what
// `prisma migrate dev --create-only` writes on a machine that can download Prisma's
// native schema engine; these build machines cannot (see README, "Offline Prisma").
//
//   node scripts/render-migration-sql.mjs [schema] > prisma/migrations/<name>/migration.sql
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const pkgDir = dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));
// The package's ESM entry imports the .wasm file directly, which Node 20 cannot do.
const bg = await import(join(pkgDir, 'schema_engine_bg.js'));
const { instance } = await WebAssembly.instantiate(readFileSync(join(pkgDir, 'schema_engine_bg.wasm')), {
  './schema_engine_bg.js': bg,
});
bg.__wbg_set_wasm(instance.exports);
instance.exports.__wbindgen_start?.();

const schemaPath = process.argv[2] ?? 'prisma/schema.prisma';
const content = readFileSync(schemaPath, 'utf8');

// The engine insists on a driver adapter even for a schema-to-schema diff. It asks the
// "database" whether the schema exists (answer: no rows, so it emits CREATE SCHEMA IF NOT
// EXISTS) and never needs anything else. No database is involved.
const ok = (value) => ({ ok: true, value });
const connection = {
  provider: 'postgres',
  adapterName: '@prisma/adapter-pg',
  queryRaw: async () => ok({ columnNames: [], columnTypes: [], rows: [] }),
  executeRaw: async () => ok(0),
  executeScript: async () => ok(undefined),
  startTransaction: async () => {
    throw new Error('render-migration-sql: no transaction is possible offline');
  },
  getConnectionInfo: () => ok({ supportsRelationJoins: true, schemaName: 'public' }),
  dispose: async () => ok(undefined),
};
const adapter = { provider: 'postgres', adapterName: '@prisma/adapter-pg', connect: async () => ok(connection) };

const engine = await bg.SchemaEngine.new({ datamodels: [[schemaPath, content]] }, () => {}, adapter);
const result = await engine.diff({
  from: { tag: 'empty' },
  to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content }] },
  script: true,
  exitCode: null,
  filters: { externalTables: [], externalEnums: [] },
});
process.stdout.write(result.stdout ?? '');
