/**
 * The SQL of a Prisma migration from an empty database to a schema, rendered offline by
 * Prisma's own schema engine compiled to WebAssembly (@prisma/schema-engine-wasm): what
 * `prisma migrate dev --create-only` writes on a machine that can download Prisma's native
 * engine. No database is involved.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface EngineModule {
  __wbg_set_wasm(exports: unknown): void;
  SchemaEngine: {
    new: (
      params: { datamodels: [string, string][] },
      log: () => void,
      adapter: unknown,
    ) => Promise<{ diff(params: unknown): Promise<{ stdout?: string }> }>;
  };
}

/** Node's global WebAssembly (not in the ES lib typings this project compiles with). */
function webAssembly(): { instantiate(bytes: Uint8Array, imports: unknown): Promise<{ instance: { exports: Record<string, unknown> } }> } {
  return (globalThis as unknown as { WebAssembly: ReturnType<typeof webAssembly> }).WebAssembly;
}

let engineModule: Promise<EngineModule> | undefined;

/** The engine's JavaScript glue with its WebAssembly instance set (Node 20 cannot import the .wasm the package's entry imports). */
function loadEngine(): Promise<EngineModule> {
  engineModule ??= (async () => {
    const require = createRequire(import.meta.url);
    const pkgDir = dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));
    const bg = (await import(pathToFileURL(join(pkgDir, 'schema_engine_bg.js')).href)) as EngineModule;
    const wasm = await readFile(join(pkgDir, 'schema_engine_bg.wasm'));
    const { instance } = await webAssembly().instantiate(wasm, { './schema_engine_bg.js': bg });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as (() => void) | undefined)?.();
    return bg;
  })();
  return engineModule;
}

/**
 * The engine insists on a driver adapter even for a schema-to-schema diff. It asks the
 * "database" whether the schema exists (answer: no rows, so it emits CREATE SCHEMA IF NOT
 * EXISTS) and never needs anything else.
 */
function offlineAdapter(): unknown {
  const ok = (value: unknown) => ({ ok: true, value });
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
  return { provider: 'postgres', adapterName: '@prisma/adapter-pg', connect: async () => ok(connection) };
}

/** The migration SQL that creates, in an empty PostgreSQL database, everything `schemaText` describes. */
export async function renderMigrationSql(schemaText: string, schemaPath = 'schema.prisma'): Promise<string> {
  const bg = await loadEngine();
  const engine = await bg.SchemaEngine.new({ datamodels: [[schemaPath, schemaText]] }, () => {}, offlineAdapter());
  const result = await engine.diff({
    from: { tag: 'empty' },
    to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: schemaText }] },
    script: true,
    exitCode: null,
    filters: { externalTables: [], externalEnums: [] },
  });
  return result.stdout ?? '';
}
