/**
 * The source checked before anything is written (issue 17): MONGO_URI must name a database
 * that exists (a database without any collection is one MongoDB does not have, e.g. a
 * misspelled name) — before, every collection was "migrated 0" and checkpointed done, exit 0.
 * A collection, named on the command line or configured, that the source does not have is
 * exit 3 before anything is written, or skipped with a warning under --skip-missing-collections.
 * A collection never seen is never checkpointed.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli, type CliEnv } from '../support/cli.js';
import { insertSimpleOrders } from '../support/simple-orders.js';

const t = useTestDatabases();
let env: CliEnv;

beforeAll(async () => {
  await insertSimpleOrders(t.db, 10);
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
});

async function stateSchemaExists(): Promise<boolean> {
  const r = await t.pg.query<{ s: string | null }>(`SELECT to_regnamespace('hybrid_migrate')::text AS s`);
  return r.rows[0]?.s !== null;
}

describe('the MongoDB database must be named and exist', () => {
  it('MONGO_URI without a database name: exit 3 naming MONGO_URI and the fix, nothing written', async () => {
    const noDb = new URL(t.mongoUri);
    noDb.pathname = '/';
    for (const args of [['migrate'], ['migrate', 'orders'], ['migrate', '--dry-run']]) {
      const r = await runCli(args, { ...env, MONGO_URI: noDb.toString() });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(/MONGO_URI: names no database/);
      expect(r.stderr).toMatch(/--mongo-db/);
    }
    expect(await stateSchemaExists()).toBe(false);
  });

  it('a misspelled database (no collection in it): exit 3 naming it, nothing written; --mongo-db with the right name works', async () => {
    const planDir = mkdtempSync(join(tmpdir(), 'hm-plan-typo-'));
    const wrong = mongoUriFor(t.mongoUri, `${t.mongoDbName}_typo`);
    for (const args of [['migrate'], ['migrate', 'orders'], ['migrate', '--incremental'], ['verify', '--no-report'], ['plan', '--out', planDir]]) {
      const r = await runCli(args, { ...env, MONGO_URI: wrong });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toContain(`MongoDB database "${t.mongoDbName}_typo" does not exist`);
      expect(r.stderr).not.toMatch(/migrated/);
    }
    const flag = await runCli(['--mongo-db', `${t.mongoDbName}_typo`, 'migrate', 'workspaces'], env);
    expect(flag.code, flag.stderr).toBe(3);
    expect(flag.stderr).toMatch(/--mongo-db: MongoDB database/);
    expect(await stateSchemaExists()).toBe(false);
    // plan too (it planned every collection as empty, exit 0): no plan file written.
    expect(readdirSync(planDir)).toEqual([]);
  });
});

describe('collections the source does not have', () => {
  it('named on the command line: exit 3 listing each, nothing written; --skip-missing-collections migrates the others and never checkpoints the missing one', async () => {
    const r = await runCli(['migrate', 'workspaces', 'clients', 'orders'], env);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(`collections.clients: collection "clients" does not exist in MongoDB database "${t.mongoDbName}"`);
    expect(r.stderr).toMatch(/--skip-missing-collections/);
    expect(await stateSchemaExists()).toBe(false);

    const skipped = await runCli(['migrate', 'workspaces', 'clients', 'orders', '--skip-missing-collections', '--json'], env);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toMatch(/collection \\?"clients\\?" does not exist in MongoDB database .*skipped/);
    expect(JSON.parse(skipped.stdout).collections.map((c: { name: string }) => c.name)).toEqual(['workspaces', 'orders']);
    const checkpointed = await t.pg.query<{ collection: string }>(`SELECT DISTINCT collection FROM hybrid_migrate.checkpoints ORDER BY collection`);
    expect(checkpointed.rows.map((r) => r.collection)).toEqual(['orders', 'workspaces']);
  });

  it('configured but absent from the source: exit 3 listing each, nothing written; skipped with a warning under --skip-missing-collections, never checkpointed done', async () => {
    await t.pg.query('DROP SCHEMA IF EXISTS hybrid_migrate CASCADE');
    const refused = await runCli(['migrate', '--json'], env);
    expect(refused.code, refused.stderr).toBe(3);
    for (const c of ['users', 'clients', 'products', 'transactions']) expect(refused.stderr).toContain(`collections.${c}: collection "${c}" does not exist`);
    expect(refused.stderr).toMatch(/--skip-missing-collections/);
    expect(await stateSchemaExists()).toBe(false);

    const r = await runCli(['migrate', '--json', '--skip-missing-collections'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/collection \\?"users\\?" does not exist in MongoDB database .*skipped/);
    const names = JSON.parse(r.stdout).collections.map((c: { name: string }) => c.name);
    expect(names).not.toContain('users');
    const checkpointed = await t.pg.query<{ collection: string }>(`SELECT DISTINCT collection FROM hybrid_migrate.checkpoints ORDER BY collection`);
    expect(checkpointed.rows.map((r) => r.collection)).toEqual(['orders', 'workspaces']);
  });
});

afterAll(() => undefined);
