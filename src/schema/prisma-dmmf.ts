/** Prisma's own parse of schema.prisma (the DMMF that `prisma generate` uses), reduced to its data model. */
import { createRequire } from 'node:module';

/**
 * The DMMF data model of a schema, as JSON text. Throws Prisma's error for an invalid schema.
 * `get_datamodel` validates as `get_dmmf` does and returns the same data model, without the
 * client's query schema that `get_dmmf` adds around it (2.6 MB of JSON for the customer's
 * schema against 54 kB, and about 25 MB of resident memory the process keeps afterwards).
 */
export function dmmfDatamodelJson(text: string): string {
  const require = createRequire(import.meta.url);
  const wasm = require('@prisma/prisma-schema-wasm') as { get_datamodel(params: string): string };
  return wasm.get_datamodel(JSON.stringify({ prismaSchema: withoutConnectionSettings(text) }));
}

/**
 * A Prisma 5/6 schema names its connection in the datasource (`url = env("DATABASE_URL")`,
 * `directUrl`, `shadowDatabaseUrl`); Prisma 7's parser, ours, refuses those lines ("The
 * datasource property url is no longer supported"). They say nothing about the data model,
 * and hybrid-migrate takes its connections from DATABASE_URL: blanked before parsing (line
 * numbers in Prisma's messages stay right), so a schema an application still runs with works.
 */
export function withoutConnectionSettings(text: string): string {
  return text.replace(/(datasource\s+\w+\s*\{)([^}]*)(\})/g, (_, open: string, body: string, close: string) =>
    open + body.replace(/^([ \t]*)(url|directUrl|shadowDatabaseUrl)[ \t]*=[^\n]*$/gm, '$1') + close);
}
