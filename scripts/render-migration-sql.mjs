#!/usr/bin/env node
// Renders the SQL of a Prisma migration from an empty database to prisma/schema.prisma,
// offline, with Prisma's schema engine compiled to WebAssembly. This is what
// `prisma migrate dev --create-only` writes on a machine that can download Prisma's
// native schema engine; these build machines cannot (see README, "Offline Prisma").
// The rendering itself is src/schema/render-migration-sql.ts (also used by `init`): build first.
//
//   node scripts/render-migration-sql.mjs [schema] > prisma/migrations/<name>/migration.sql
import { readFileSync } from 'node:fs';
import { renderMigrationSql } from '../dist/src/schema/render-migration-sql.js';

const schemaPath = process.argv[2] ?? 'prisma/schema.prisma';
process.stdout.write(await renderMigrationSql(readFileSync(schemaPath, 'utf8'), schemaPath));
