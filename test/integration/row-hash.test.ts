/**
 * The evidence that a row is still as the migration wrote it (id_map.row_hash, and the hashes
 * of its child rows in id_map.child_rows) is a digest of the row as PostgreSQL prints it.
 *
 * - A column named like the table alias of the tool's statements (`t`, `c`) must not stand for
 *   the row: the hash was once `md5(to_jsonb(t)::text)`, which PostgreSQL resolves to the
 *   column `t` when the table has one, so an application change to any other column went
 *   unseen and `--restart` overwrote it.
 * - Registry entries written by earlier versions (32 hex digits: md5 of to_jsonb) are still
 *   read in their own format: unchanged rows are unchanged, changed ones are changed. (An
 *   entry that earlier version wrote for such a table hashed the column: it is read as a
 *   change, which keeps the row: the safe side.)
 * - `migrate --restart` on such a table failed ("column reference t is ambiguous": the
 *   upsert's guard named t, which is also a column of EXCLUDED).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectId } from 'mongodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { renderMigrationSql } from '../../src/schema/render-migration-sql.js';
import { objectIdToUuid, sourceIdKey } from '../../src/core/ids.js';

const t = useTestDatabases();

// Columns named t, c and r: the aliases the tool's statements give the main, child and referencing rows.
const SCHEMA = `datasource db {
  provider = "postgresql"
}
model HashItem {
  id          String     @id @db.Uuid
  t           String
  name        String
  legacyExtra Json?      @map("legacy_extra")
  lines       HashLine[]
  @@map("hash_items")
}
model HashLine {
  id          String   @id @db.Uuid
  itemId      String   @map("item_id") @db.Uuid
  position    Int
  c           String
  qty         Int
  legacyExtra Json?    @map("legacy_extra")
  item        HashItem @relation(fields: [itemId], references: [id])
  @@unique([itemId, position])
  @@map("hash_lines")
}
`;

let env: { MONGO_URI: string; DATABASE_URL: string };
let config: string;
const items = [new ObjectId(), new ObjectId(), new ObjectId()];
const uuid = (i: number) => objectIdToUuid(items[i] as ObjectId);

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hm-row-hash-'));
  writeFileSync(join(dir, 'schema.prisma'), SCHEMA);
  config = join(dir, 'hybrid-migrate.config.mjs');
  writeFileSync(config, `export default ${JSON.stringify({ schema: join(dir, 'schema.prisma'), collections: { items: { model: 'HashItem', children: [{ model: 'HashLine', from: 'lines' }] } } })};\n`);
  // Each test starts from nothing: no tables, no state, no documents.
  await t.pg.query(`DROP TABLE IF EXISTS hash_lines, hash_items; DROP SCHEMA IF EXISTS hybrid_migrate CASCADE`);
  await t.db.collection('items').deleteMany({});
  await t.pg.query(await renderMigrationSql(SCHEMA, 'schema.prisma'));
  await t.db.collection('items').insertMany(items.map((_id, i) => ({ _id, t: 'same', name: `item ${i}`, lines: [{ c: 'same', qty: 1 }] })));
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  const first = await runCli(['--config', config, 'migrate', '--json'], env);
  expect(first.code, first.stderr).toBe(0);
});

/** The application changes item 0's name and item 1's line quantity (never the columns t or c); MongoDB renames every item and changes its line. */
async function changeBothSides(): Promise<void> {
  await t.pg.query(`UPDATE hash_items SET name = 'changed by the app' WHERE id = $1`, [uuid(0)]);
  await t.pg.query(`UPDATE hash_lines SET qty = 99 WHERE item_id = $1`, [uuid(1)]);
  await t.db.collection('items').updateMany({}, { $set: { name: 'renamed in MongoDB', 'lines.0.qty': 2 } });
}

async function rows(): Promise<{ t: string; name: string; c: string; qty: number }[]> {
  const r = await t.pg.query<{ t: string; name: string; c: string; qty: number }>(`SELECT i.t, i.name, l.c, l.qty FROM hash_items i JOIN hash_lines l ON l.item_id = i.id ORDER BY i.id`);
  return r.rows;
}

/** After changeBothSides and a --restart: the two documents the application changed kept as it left them, the third rewritten. */
const AFTER_RESTART = [
  { t: 'same', name: 'changed by the app', c: 'same', qty: 1 },
  { t: 'same', name: 'item 1', c: 'same', qty: 99 },
  { t: 'same', name: 'renamed in MongoDB', c: 'same', qty: 2 },
];

describe('the row hash', () => {
  it('sees a change to any column, even with columns named like the statements\' aliases', async () => {
    await changeBothSides();
    const again = await runCli(['--config', config, 'migrate', '--restart', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).collections[0]).toMatchObject({ read: 3, migrated: 1, skippedModified: 2 });
    expect(await rows()).toEqual(AFTER_RESTART);
  }, 120_000);

  // The two formats earlier versions recorded: md5(to_jsonb(row)) (32 hex digits), then 'r' || md5(row text).
  const EARLIER = {
    jsonb: { row: (a: string) => `md5(to_jsonb(${a})::text)`, pattern: '^[0-9a-f]{32}$' },
    text: { row: (a: string) => `'r' || md5((${a}.*)::text)`, pattern: '^r[0-9a-f]{32}$' },
  };
  for (const [name, format] of Object.entries(EARLIER)) {
    it(`reads registry entries written in an earlier format (${name}) in that format`, async () => {
      await t.pg.query(`UPDATE hybrid_migrate.id_map m SET row_hash = ${format.row('x')} FROM hash_items x WHERE x.id = m.uuid`);
      await t.pg.query(`
        UPDATE hybrid_migrate.id_map m SET child_rows = d.digest
          FROM (SELECT x.item_id, string_agg('0.' || x.position || '.' || ${format.row('x')}, ' ' ORDER BY x.position) AS digest FROM hash_lines x GROUP BY x.item_id) d
         WHERE d.item_id = m.uuid`);
      const earlier = await t.pg.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM hybrid_migrate.id_map WHERE row_hash ~ $1 AND child_rows ~ ('^0\\.0\\.' || substr($1, 2))`,
        [format.pattern],
      );
      expect(earlier.rows[0]?.n).toBe(3);
      await changeBothSides();

      const verify = await runCli(['--config', config, 'verify', '--json', '--no-report'], env);
      expect(JSON.parse(verify.stdout).collections[0]).toMatchObject({ changedByApplication: 2 });

      const again = await runCli(['--config', config, 'migrate', '--restart', '--json'], env);
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout).collections[0]).toMatchObject({ read: 3, migrated: 1, skippedModified: 2 });
      expect(await rows()).toEqual(AFTER_RESTART);
      // What the restart wrote is recorded in the current format; the two kept documents keep theirs.
      const formats = await t.pg.query<{ current: boolean; n: number }>(`SELECT row_hash LIKE 'x%' AS current, count(*)::int AS n FROM hybrid_migrate.id_map GROUP BY 1 ORDER BY 1`);
      expect(formats.rows).toEqual([{ current: false, n: 2 }, { current: true, n: 1 }]);

      const rollback = await runCli(['--config', config, '--json', 'rollback', 'items'], env);
      expect(JSON.parse(rollback.stdout).collections[0]).toMatchObject({ deleted: 1, skippedModified: 2 });
      const left = await t.pg.query<{ id: string }>(`SELECT id::text FROM hash_items ORDER BY id`);
      expect(left.rows.map((r) => r.id)).toEqual([uuid(0), uuid(1)]);
    }, 120_000);
  }

  it('records the version of each row the migration wrote: its xmin, for the main row and every child row', async () => {
    const r = await t.pg.query<{ row_hash: string; child_rows: string; xmin: string; line_xmin: string }>(
      `SELECT m.row_hash, m.child_rows, i.xmin::text AS xmin, l.xmin::text AS line_xmin
         FROM hybrid_migrate.id_map m JOIN hash_items i ON i.id = m.uuid JOIN hash_lines l ON l.item_id = i.id ORDER BY i.id`,
    );
    expect(r.rows).toHaveLength(3);
    for (const row of r.rows) {
      expect(row.row_hash).toBe(`x${row.xmin}`);
      expect(row.child_rows).toBe(`0.0.x${row.line_xmin}`);
    }
  }, 120_000);

  it('counts an UPDATE that writes the same values back as a change of the application\'s', async () => {
    await t.pg.query(`UPDATE hash_items SET name = name WHERE id = $1`, [uuid(0)]);
    await t.pg.query(`UPDATE hash_lines SET qty = qty WHERE item_id = $1`, [uuid(1)]);
    await t.db.collection('items').updateMany({}, { $set: { name: 'renamed in MongoDB' } });
    const again = await runCli(['--config', config, 'migrate', '--restart', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).collections[0]).toMatchObject({ read: 3, migrated: 1, skippedModified: 2 });
    const names = await t.pg.query<{ name: string }>(`SELECT name FROM hash_items ORDER BY id`);
    expect(names.rows.map((n) => n.name)).toEqual(['item 0', 'item 1', 'renamed in MongoDB']);
  }, 120_000);

  it('keeps rows the migration\'s when the application\'s schema gains a column (ALTER TABLE … ADD COLUMN rewrites no row)', async () => {
    // A Prisma migration of the application in hybrid mode; the md5 of the row's text changed with it, so every row read as the application's.
    await t.pg.query(`ALTER TABLE hash_items ADD COLUMN note text DEFAULT 'n'`);
    await t.pg.query(`ALTER TABLE hash_lines ADD COLUMN note text`);
    await t.db.collection('items').updateMany({}, { $set: { name: 'renamed in MongoDB' } });
    const again = await runCli(['--config', config, 'migrate', '--restart', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).collections[0]).toMatchObject({ read: 3, migrated: 3, skippedModified: 0 });
    const names = await t.pg.query<{ name: string; note: string }>(`SELECT name, note FROM hash_items ORDER BY id`);
    expect(names.rows).toEqual([0, 1, 2].map(() => ({ name: 'renamed in MongoDB', note: 'n' })));
  }, 120_000);

  it('keeps rows the migration\'s through VACUUM FULL, CLUSTER and freezing (they keep their xmin)', async () => {
    await t.pg.query(`VACUUM (FULL, FREEZE) hash_items`);
    await t.pg.query(`CLUSTER hash_lines USING hash_lines_pkey`);
    await t.pg.query(`VACUUM (FREEZE) hash_lines`);
    await t.db.collection('items').updateMany({}, { $set: { name: 'renamed in MongoDB', 'lines.0.qty': 2 } });
    // The rows differ from the documents now: MongoDB's change, none of the application's.
    const verify = await runCli(['--config', config, 'verify', '--json', '--no-report'], env);
    expect(JSON.parse(verify.stdout).collections[0]).toMatchObject({ changedByApplication: 0 });
    const again = await runCli(['--config', config, 'migrate', '--restart', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).collections[0]).toMatchObject({ read: 3, migrated: 3, skippedModified: 0 });
    const rollback = await runCli(['--config', config, '--json', 'rollback', 'items'], env);
    expect(JSON.parse(rollback.stdout).collections[0]).toMatchObject({ deleted: 3, skippedModified: 0 });
  }, 120_000);
});

describe('the registry of documents with odd string _ids', () => {
  // Each is one element of the registry statement's text[] parameter.
  const ids = ['a"b', 'c\\d', 'e,f', '{g}', 'NULL', ' sp ', 'ünï ✓', '\\"', 'x\ty'];

  it('registers documents whose string _ids hold quotes, backslashes, commas, braces and NULL', async () => {
    await t.db.collection('items').insertMany(ids.map((_id, i) => ({ _id: _id as unknown as ObjectId, t: 'odd', name: `odd ${i}`, lines: [{ c: 'x', qty: i }] })));
    const again = await runCli(['--config', config, 'migrate', '--restart', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    const keys = await t.pg.query<{ source_key: string }>(`SELECT source_key FROM hybrid_migrate.id_map WHERE source_key NOT LIKE 'oid:%'`);
    expect(keys.rows.map((k) => k.source_key).sort()).toEqual(ids.map((id) => sourceIdKey(id)).sort());
  }, 120_000);
});
