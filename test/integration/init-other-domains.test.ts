/**
 * Issue 20 acceptance on a model from other domains (movies/comments/users, bank
 * customers/accounts/transactions, sales): `init` → apply its SQL to an empty database →
 * `plan` → `migrate` → `verify` all exit 0 with no hand edit, and the draft has the
 * relations the data supports (by ObjectId, by e-mail, by numeric account number).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { OTHER_DOMAIN_MODELS, loadAwkwardShapes, loadOtherDomains } from '../support/init-datasets.js';
import { expectPipelineOk, runInitPipeline, type PipelineRun } from '../support/init-pipeline.js';

const t = useTestDatabases();
let run: PipelineRun;

beforeAll(async () => {
  await loadOtherDomains(t.db);
  run = await runInitPipeline(t.mongoUri, t.mongoDbName);
}, 240_000);

afterAll(async () => {
  await run?.drop();
});

describe('init on movies, bank and sales data', () => {
  it('init → apply → plan → migrate → verify all exit 0, with no hand edit', () => {
    expectPipelineOk(run);
  });

  it('drafts relations by ObjectId, by e-mail and by account number, child models and scalar lists', () => {
    const s = run.schema;
    expect(s).toMatch(/movieId\s+String @map\("movie_id"\) @db\.Uuid/);
    expect(s).toMatch(/@relation\("Comment_movieId", fields: \[movieId\], references: \[id\]\)/);
    // 59 of 60 e-mails are users' e-mails: a relation to the unique users.email, optional (one orphan).
    expect(s).toMatch(/email\s+String\?/);
    expect(s).toMatch(/@relation\("Comment_email", fields: \[email\], references: \[email\]\)/);
    expect(s).toMatch(/98\.3% of 60 found in users\.email/);
    // accounts: [371138, …] → a child model of references to the unique accounts.account_id.
    expect(s).toMatch(/model CustomerAccount \{/);
    expect(s).toMatch(/references: \[accountId\]/);
    expect(s).toMatch(/model SaleItem \{/);
    expect(s).toMatch(/genres\s+String\[\]/);
    expect(s).toMatch(/tierAndDetails\s+Json\?/);
    expect(run.config).toMatch(/valueField: "accountAccountId"|valueField: "/);
  });

  it('wrote every row: documents, child rows, foreign keys', async () => {
    const count = async (table: string) => Number((await run.pg.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n);
    expect(await count('comments')).toBe(60);
    expect(await count('sale_items')).toBe(120);
    expect(await count('customer_accounts')).toBe(20);
    const linked = await run.pg.query(`SELECT count(*)::int AS n FROM comments c JOIN users u ON u.email = c.email`);
    expect(linked.rows[0].n).toBe(59);
    const rejects = await run.pg.query(`SELECT count(*)::int AS n FROM hybrid_migrate.rejects`);
    expect(rejects.rows[0].n).toBe(0);
  });

  it('refuses to overwrite the draft without --force, and replaces it with --force', async () => {
    const env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: 'postgresql://unused@127.0.0.1:1/none' };
    const before = readFileSync(join(run.dir, 'prisma', 'schema.prisma'), 'utf8');
    const again = await runCli(['init'], env, { cwd: run.dir });
    expect(again.code, again.stderr).toBe(3);
    expect(again.stderr).toMatch(/prisma\/schema\.prisma: already exists/);
    expect(again.stderr).toMatch(/--force/);
    expect(readFileSync(join(run.dir, 'prisma', 'schema.prisma'), 'utf8')).toBe(before);
    const forced = await runCli(['init', '--force', '--out', 'second', '--sample', '5'], env, { cwd: run.dir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(existsSync(join(run.dir, 'second', 'hybrid-migrate.config.ts'))).toBe(true);
    expect(forced.stdout).toMatch(/Next:/);
    // A sample of 5 comments still finds them all in movies._id: every _id is read for references.
    const sampled = readFileSync(join(run.dir, 'second', 'prisma', 'schema.prisma'), 'utf8');
    expect(sampled).toMatch(/collection "comments": 5 documents \(a sample\)/);
    expect(sampled).toMatch(/ObjectIds: 100% of 5 found in movies\._id: a relation/);
  });
});

describe('init refuses what it cannot use', () => {
  it('a MONGO_URI naming no database (exit 3, before connecting), an unknown collection (exit 3, naming those that exist)', async () => {
    const noDb = await runCli(['init'], { MONGO_URI: t.mongoUri, DATABASE_URL: '' });
    expect(noDb.code, noDb.stderr).toBe(3);
    expect(noDb.stderr).toMatch(/MONGO_URI: names no database/);
    const unknown = await runCli(['init', 'nope', '--out', mkdtempSync(join(tmpdir(), 'hm-init-none-'))], { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: '' });
    expect(unknown.code, unknown.stderr).toBe(3);
    expect(unknown.stderr).toMatch(/collection "nope" does not exist/);
    expect(unknown.stderr).toMatch(/Collections there: accounts, comments/);
  });
});

describe('init on awkward shapes', () => {
  const db = () => `${t.mongoDbName}_awkward`;
  let awkward: PipelineRun;

  beforeAll(async () => {
    await loadAwkwardShapes(t.mongo.db(db()));
    awkward = await runInitPipeline(t.mongoUri, db());
  }, 240_000);

  afterAll(async () => {
    await awkward?.drop();
    await t.mongo.db(db()).dropDatabase().catch(() => {});
  });

  it('string and numeric _ids, a self-reference, arrays of references, clashing names: the pipeline still exits 0', () => {
    expectPipelineOk(awkward);
  });

  it('drafts what the data says', async () => {
    const s = awkward.schema;
    expect(s).toMatch(/@relation\("Order_shopId", fields: \[shopId\], references: \[id\]\)/);
    expect(s).toMatch(/@relation\("Category_parentId", fields: \[parentId\], references: \[id\]\)/);
    expect(s).toMatch(/model OrderTag \{/);
    expect(s).toMatch(/sourceId String @unique @map\("source_id"\)/);
    expect(s).toMatch(/sourcePosition Int @map\("source_position"\)/);
    expect(s).toMatch(/quantity Int\?/);
    expect(s).toMatch(/meta Json\?/);
    // The orders' items table and the order_items collection's table cannot share a name.
    expect(s).toMatch(/@@map\("order_items"\)/);
    expect(s).toMatch(/@@map\("order_items2"\)/);
    const kept = await awkward.pg.query(`SELECT legacy_extra FROM orders WHERE quantity IS NULL`);
    expect(kept.rows).toEqual([{ legacy_extra: { $invalid: { quantity: 'a few' } } }]);
  });

  it("keeps a string or numeric _id in a column of its own (the row's UUID is derived from it one way); an ObjectId needs none", async () => {
    const s = awkward.schema;
    const model = (name: string) => new RegExp(`model ${name} \\{[^}]*\\}`).exec(s)?.[0] ?? '';
    expect(model('Category')).toMatch(/legacyId String @unique @map\("legacy_id"\)/);
    expect(model('Shop')).toMatch(/legacyId Int @unique @map\("legacy_id"\)/);
    expect(model('Order')).not.toMatch(/legacyId/);
    const categories = await awkward.pg.query(`SELECT legacy_id FROM categories ORDER BY legacy_id`);
    expect(categories.rows.map((r) => r.legacy_id)).toEqual(['cat-0', 'cat-1', 'cat-2', 'cat-3', 'cat-4', 'cat-5']);
    const shops = await awkward.pg.query(`SELECT legacy_id FROM shops ORDER BY legacy_id`);
    expect(shops.rows.map((r) => r.legacy_id)).toEqual([1000, 1001, 1002, 1003, 1004]);
  });
});

describe('init --models: the application\'s Mongoose models checked against the data', () => {
  let withModels: PipelineRun;
  let models: string;

  beforeAll(async () => {
    models = join(mkdtempSync(join(tmpdir(), 'hm-models-')), 'models');
    mkdirSync(models);
    for (const [file, text] of Object.entries(OTHER_DOMAIN_MODELS)) writeFileSync(join(models, file), text);
    // The critics the comments' reviewer refers to: a collection with no documents yet.
    await t.db.createCollection('critics');
    withModels = await runInitPipeline(t.mongoUri, t.mongoDbName, ['--models', models]);
  }, 240_000);

  afterAll(async () => {
    await withModels?.drop();
  });

  it('loads the models without connecting (one connects at import), and the pipeline still exits 0', () => {
    expectPipelineOk(withModels);
    expect(existsSync(join(models, 'CONNECTED'))).toBe(false);
  });

  it('reports declarations the data confirms and contradicts; the draft follows the data', () => {
    const out = withModels.init.stdout;
    expect(out).toMatch(/Comment\.movie_id: ref Movie \(confirmed: 100% found\)/);
    expect(out).toMatch(/Sale\.purchaseMethod: declared enum \[Online, Phone\], but the data also holds "InStore"/);
    expect(out).toMatch(/Sale\.couponUsed: declared Number, but the data holds other values: drafted as boolean/);
    expect(out).toMatch(/Comment\.rating: declared Number, in no document: optional column Comment\.rating/);
    const s = withModels.schema;
    expect(s).toMatch(/couponUsed Boolean/);
    expect(s).toMatch(/rating Float\?/);
    // A ref to a collection with no documents: the declaration decides.
    expect(s).toMatch(/reviewerId String\? @map\("reviewer_id"\) @db\.Uuid/);
    expect(s).toMatch(/declared by the Mongoose model Comment/);
  });
});
