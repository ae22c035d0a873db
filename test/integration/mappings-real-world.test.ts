/**
 * Issue 18, real-world mappings, end to end through the compiled CLI: the public MongoDB
 * sample data sets (movies + comments, theaters, bank customers + accounts) mapped into a
 * second Prisma schema (test/support/real-world), on the real servers.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { REPO_ROOT } from '../support/migration.js';
import { idToUuid, objectIdToUuid } from '../../src/core/ids.js';

const t = useTestDatabases();
const SCHEMA = join(REPO_ROOT, 'test/support/real-world/schema.prisma');
let env: { MONGO_URI: string; DATABASE_URL: string };
let dir: string;

/** Writes a configuration file for the real-world schema and returns its path. */
function config(name: string, collections: Record<string, unknown>): string {
  const file = join(dir, `${name}.config.mjs`);
  writeFileSync(file, `export default ${JSON.stringify({ schema: SCHEMA, collections })};\n`);
  return file;
}

beforeAll(async () => {
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  await t.pg.query(readFileSync(join(REPO_ROOT, 'test/support/real-world/migration.sql'), 'utf8'));
  dir = mkdtempSync(join(tmpdir(), 'hm-real-world-'));
});

describe('array positions and arrays of plain values', () => {
  it('GeoJSON coordinates go to two columns, keywords to child rows, genres to a scalar list', async () => {
    const theater = new ObjectId();
    const movie = new ObjectId();
    await t.db.collection('theaters').insertOne({ _id: theater, theaterId: 1000, location: { geo: { type: 'Point', coordinates: [-93.24565, 44.85466] } } });
    await t.db.collection('movies').insertOne({ _id: movie, title: 'Blacksmith Scene', genres: ['Short'], keywords: ['smith', 'anvil'] });
    const file = config('arrays', {
      theaters: { model: 'Theater', fields: { longitude: 'location.geo.coordinates.0', latitude: 'location.geo.coordinates.1' } },
      movies: { model: 'Movie', children: [{ model: 'Tag', from: 'keywords' }] },
    });
    const r = await runCli(['--config', file, 'migrate', '--json'], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const th = await t.pg.query(`SELECT longitude, latitude FROM rw_theaters WHERE id = $1`, [objectIdToUuid(theater)]);
    expect(th.rows).toEqual([{ longitude: -93.24565, latitude: 44.85466 }]);
    const tags = await t.pg.query(`SELECT position, value FROM rw_movie_tags WHERE "movieId" = $1 ORDER BY position`, [objectIdToUuid(movie)]);
    expect(tags.rows).toEqual([{ position: 0, value: 'smith' }, { position: 1, value: 'anvil' }]);
    const m = await t.pg.query(`SELECT genres FROM rw_movies WHERE id = $1`, [objectIdToUuid(movie)]);
    expect(m.rows).toEqual([{ genres: ['Short'] }]);
  });
});

describe('references stored as hex strings to string _ids (item 5)', () => {
  it('resolve to the document whose _id is that string: no orphan, in plan or migrate', async () => {
    const hex = '5a9427648b0beebeb69579e7';
    const comment = new ObjectId();
    await t.db.collection<{ _id: string; name: string; email: string }>('users').insertOne({ _id: hex, name: 'Ned Stark', email: 'sean_bean@gameofthron.es' });
    await t.db.collection('comments').insertOne({ _id: comment, text: 'Winter is coming', userId: hex });
    const file = config('hex', { users: { model: 'User' }, comments: { model: 'Comment', fields: { userId: { onMissingReference: 'reject' } } } });
    const plan = await runCli(['--config', file, 'plan', '--json'], env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).not.toMatch(/which does not exist/);
    const r = await runCli(['--config', file, 'migrate', '--json'], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const row = await t.pg.query(`SELECT "userId" AS user FROM rw_comments WHERE id = $1`, [objectIdToUuid(comment)]);
    expect(row.rows).toEqual([{ user: idToUuid('users', hex) }]);
  });
});

describe('bank: relations to a unique field that is not the id, arrays of account numbers (items 2 and 4)', () => {
  it('account numbers are written as is once the account row exists; an unknown one is refused by name', async () => {
    const good = new ObjectId();
    const bad = new ObjectId();
    await t.db.collection('accounts').insertMany([{ account_id: 371138, limit: 9000 }, { account_id: 557378, limit: 10000 }]);
    await t.db.collection('customers').insertMany([
      { _id: good, username: 'fmiller', tier_and_details: {}, accounts: [371138, 557378] },
      { _id: bad, username: 'valenciajennifer', accounts: [371138, 999999] },
    ]);
    await t.db.collection('transactions').insertMany([{ account_id: 557378, amount: 12 }]);
    const file = config('bank', {
      accounts: { model: 'Account', fields: { accountId: 'account_id' } },
      customers: { model: 'Customer', children: [{ model: 'CustomerAccount', from: 'accounts' }] },
      transactions: { model: 'Transaction', fields: { accountNumber: 'account_id' } },
    });
    const plan = await runCli(['--config', file, 'plan', '--json'], env);
    expect(plan.code, plan.stderr).toBe(1); // the customer with account 999999
    expect(plan.stdout).toMatch(/accounts\[1\]\.accountId references accounts accountId=999999, which does not exist/);
    // Presence counts the plain elements as values of the value column.
    const customers = (JSON.parse(plan.stdout) as { collections: { name: string; children: { from: string; fields: { field: string; present?: number }[] }[] }[] }).collections.find((c) => c.name === 'customers');
    expect(customers?.children[0]?.fields.find((f) => f.field === 'accountId')).toMatchObject({ present: 4 });
    const r = await runCli(['--config', file, 'migrate', '--json'], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const held = await t.pg.query(`SELECT position, "accountId" FROM rw_customer_accounts WHERE "customerId" = $1 ORDER BY position`, [objectIdToUuid(good)]);
    expect(held.rows).toEqual([{ position: 0, accountId: 371138 }, { position: 1, accountId: 557378 }]);
    const tx = await t.pg.query(`SELECT "accountNumber" FROM rw_transactions`);
    expect(tx.rows).toEqual([{ accountNumber: 557378 }]);
    const rejects = await t.pg.query(`SELECT field_path, reason FROM hybrid_migrate.rejects WHERE collection = 'customers'`);
    expect(rejects.rows).toEqual([{ field_path: 'accounts[1].accountId', reason: 'accounts[1].accountId references accounts accountId=999999, which does not exist' }]);
  });
});

describe('movies: comments referencing users by email (item 1)', () => {
  it('the foreign key gets the UUID of the user with that email; unknown and duplicated emails are orphans', async () => {
    const ned = new ObjectId();
    const c1 = new ObjectId();
    const c2 = new ObjectId();
    const c3 = new ObjectId();
    await t.db.collection('people').insertMany([
      { _id: ned, name: 'Robert Baratheon', email: 'mark_addy@gameofthron.es' },
      { name: 'Twin A', email: 'twin@example.org' },
      { name: 'Twin B', email: 'twin@example.org' },
    ]);
    await t.db.collection('remarks').insertMany([
      { _id: c1, text: 'Ours is the fury', email: 'mark_addy@gameofthron.es' },
      { _id: c2, text: 'Who?', email: 'nobody@example.org' },
      { _id: c3, text: 'Which one?', email: 'twin@example.org' },
    ]);
    const file = config('by-email', {
      people: { model: 'User', fields: { email: { from: 'email' } } },
      remarks: { model: 'Comment', fields: { userId: { from: 'email', references: 'people', by: 'email' } } },
    });
    const plan = await runCli(['--config', file, 'plan', '--json'], env);
    // Two remarks reference no single user: an unknown email, and one that two people share (reported as such).
    const orphans = (JSON.parse(plan.stdout) as { collections: { name: string; orphans: { field: string; count: number }[] }[] }).collections.find((c) => c.name === 'remarks')?.orphans;
    expect(orphans?.map((o) => [o.field, o.count]).sort()).toEqual([
      ['remarks.email (email not unique in people)', 1],
      ['remarks.email', 1],
    ]);
    const r = await runCli(['--config', file, 'migrate', '--json'], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const rows = await t.pg.query<{ id: string; user: string | null; extra: unknown }>(`SELECT id, "userId" AS user, "legacyExtra" AS extra FROM rw_comments WHERE id = ANY($1::uuid[]) ORDER BY text`, [[c1, c2, c3].map((c) => objectIdToUuid(c.toHexString()))]);
    const byId = Object.fromEntries(rows.rows.map((x) => [x.id, x]));
    expect(byId[objectIdToUuid(c1)]?.user).toBe(objectIdToUuid(ned));
    expect(byId[objectIdToUuid(c2)]).toMatchObject({ user: null, extra: { $orphans: { email: 'email=nobody@example.org' } } });
    expect(byId[objectIdToUuid(c3)]).toMatchObject({ user: null, extra: { $orphans: { email: 'email=twin@example.org (not unique in the source: several documents hold it)' } } });
  });
});
