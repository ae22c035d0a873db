/**
 * PostgreSQL silently truncates identifiers to 63 bytes (NAMEDATALEN - 1). Two table or column
 * names that only differ after byte 63 are therefore one name to the server: a migration
 * writing "both" would write one table twice. Found here, from the mapping alone, so `plan`
 * and `migrate` refuse before any write. Collection names never become identifiers (they are
 * only ever values in the state tables), so long collection names cannot collide.
 */
import type { ConfigIssue } from '../core/errors.js';
import type { MigrationMapping } from '../core/mapping.js';
import type { SchemaModel } from '../schema/prisma-schema.js';

export const MAX_IDENTIFIER_BYTES = 63;

/** The name PostgreSQL actually uses: the first 63 bytes, never cutting a UTF-8 character in two. */
export function truncatedIdentifier(name: string): string {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length <= MAX_IDENTIFIER_BYTES) return name;
  let end = MAX_IDENTIFIER_BYTES;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--; // a continuation byte: back to the character's start
  return bytes.subarray(0, end).toString('utf8');
}

/** Issues for names the mapping writes to that PostgreSQL would truncate into one another. */
export function identifierCollisions(mapping: MigrationMapping): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  // Every model written, once, with the collection that writes it (children included).
  const models = new Map<string, { model: SchemaModel; path: string }>();
  for (const c of mapping.collections.values()) {
    models.set(c.model.name, { model: c.model, path: `collections.${c.name}.model` });
    c.children.forEach((child, i) => models.set(child.model.name, { model: child.model, path: `collections.${c.name}.children[${i}]` }));
  }
  const tables = new Map<string, { model: SchemaModel; path: string }>();
  for (const entry of models.values()) {
    const { model, path } = entry;
    const key = `${truncatedIdentifier(model.dbSchema)}.${truncatedIdentifier(model.table)}`;
    const other = tables.get(key);
    if (other) {
      issues.push({
        path,
        message: `tables "${other.model.table}" (model ${other.model.name}) and "${model.table}" (model ${model.name}) are the same table to PostgreSQL, which keeps only the first ${MAX_IDENTIFIER_BYTES} bytes of a name ("${truncatedIdentifier(model.table)}"); give one a shorter @@map name`,
      });
    } else tables.set(key, entry);
    const columns = new Map<string, string>();
    for (const col of model.columns) {
      const short = truncatedIdentifier(col.column);
      const previous = columns.get(short);
      if (previous !== undefined && previous !== col.column) {
        issues.push({
          path,
          message: `columns "${previous}" and "${col.column}" of table "${model.table}" (model ${model.name}) are the same column to PostgreSQL, which keeps only the first ${MAX_IDENTIFIER_BYTES} bytes of a name ("${short}"); give one a shorter @map name`,
        });
      } else columns.set(short, col.column);
    }
  }
  return issues;
}
