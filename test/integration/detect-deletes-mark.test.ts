/**
 * --detect-deletes with `onSourceDelete: { mark: 'deletedAt' }`: a document deleted in MongoDB
 * whose row other rows still reference is marked like the others. A mark deletes nothing, so
 * no reference stands in its way; before, such a row was "kept although deleted" with deletedAt
 * left NULL, so the application never learnt that the product of an order history was gone
 * (found by a black-box run with a hand-written schema). A row the application changed is
 * still left alone.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { renderMigrationSql } from '../../src/schema/render-migration-sql.js';
import { objectIdToUuid } from '../../src/core/ids.js';

const t = useTestDatabases();

const SCHEMA = `datasource db {
  provider = "postgresql"
}
model Product {
  id          String    @id @db.Uuid
  name        String
  deletedAt   DateTime? @map("deleted_at") @db.Timestamptz(3)
  legacyExtra Json?     @map("legacy_extra")
  reviews     Review[]
  @@map("mark_products")
}
model Review {
  id          String  @id @db.Uuid
  productId   String  @map("product_id") @db.Uuid
  text        String
  legacyExtra Json?   @map("legacy_extra")
  product     Product @relation(fields: [productId], references: [id])
  @@index([productId])
  @@map("mark_reviews")
}
`;

describe("--detect-deletes marks a deleted document's row even when other rows reference it", () => {
  it('referenced and unreferenced products are marked, an application-changed one is left; nothing is deleted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-mark-'));
    writeFileSync(join(dir, 'schema.prisma'), SCHEMA);
    writeFileSync(join(dir, 'hybrid-migrate.config.mjs'), `export default ${JSON.stringify({ schema: join(dir, 'schema.prisma'), collections: { products: { model: 'Product', onSourceDelete: { mark: 'deletedAt' } }, reviews: { model: 'Review', fields: { productId: 'product' } } } })};\n`);
    await t.pg.query(await renderMigrationSql(SCHEMA, 'schema.prisma'));
    const products = [new ObjectId(), new ObjectId(), new ObjectId(), new ObjectId()];
    await t.db.collection('products').insertMany(products.map((_id, i) => ({ _id, name: `P${i}` })));
    await t.db.collection('reviews').insertMany([{ _id: new ObjectId(), product: products[0], text: 'great' }]);
    const env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
    const config = join(dir, 'hybrid-migrate.config.mjs');
    const first = await runCli(['--config', config, 'migrate', '--json'], env);
    expect(first.code, first.stderr).toBe(0);

    // The application renames product 2; then products 0 (reviewed), 1 and 2 are deleted in MongoDB.
    await t.pg.query(`UPDATE mark_products SET name = 'renamed' WHERE id = $1`, [objectIdToUuid(products[2] as ObjectId)]);
    await t.db.collection('products').deleteMany({ _id: { $in: products.slice(0, 3) } });
    const sync = await runCli(['--config', config, '--json', 'migrate', 'products', '--incremental', '--detect-deletes'], env);
    expect(sync.code, sync.stderr).toBe(0);
    expect(JSON.parse(sync.stdout).collections[0]).toMatchObject({ deletedInSource: 2, deleteBlocked: 1 });
    const rows = await t.pg.query<{ name: string; marked: boolean }>(`SELECT name, deleted_at IS NOT NULL AS marked FROM mark_products ORDER BY name`);
    expect(rows.rows).toEqual([
      { name: 'P0', marked: true },
      { name: 'P1', marked: true },
      { name: 'P3', marked: false },
      { name: 'renamed', marked: false },
    ]);
    expect((await t.pg.query(`SELECT count(*)::int AS n FROM mark_reviews`)).rows[0].n).toBe(1);
  }, 120_000);
});
