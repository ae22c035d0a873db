/** Prisma's own parse of schema.prisma (the DMMF that `prisma generate` uses), reduced to its data model. */
import { createRequire } from 'node:module';

/** The DMMF data model of a schema, as JSON text. Throws Prisma's error for an invalid schema. */
export function dmmfDatamodelJson(text: string): string {
  const require = createRequire(import.meta.url);
  const wasm = require('@prisma/prisma-schema-wasm') as { get_dmmf(params: string): string };
  const dmmf = JSON.parse(wasm.get_dmmf(JSON.stringify({ prismaSchema: text }))) as { datamodel: unknown };
  return JSON.stringify(dmmf.datamodel);
}
