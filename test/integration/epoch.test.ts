/**
 * Epoch seconds in a DateTime field, end to end: without configuration they are read as
 * milliseconds as before (1612345678 → 1970-01-19) but `plan` reports them as looking like
 * seconds, with what to set; with `epoch: 'seconds'` on the field, migrate writes the real
 * instant and plan has nothing to report.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { createTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';

const SECONDS = [1612345678, 1612345679, 1700000000];

async function withUsers<T>(work: (env: { MONGO_URI: string; DATABASE_URL: string }, pgQuery: (sql: string) => Promise<unknown[]>) => Promise<T>): Promise<T> {
  const db = await createTestDatabases();
  try {
    const ws = new ObjectId();
    await db.db.collection('workspaces').insertOne({ _id: ws, name: 'Shop', slug: 'shop', currency: 'XOF', createdAt: new Date('2020-01-01T00:00:00Z') });
    await db.db.collection('users').insertMany([
      ...SECONDS.map((s, i) => ({ workspaceId: ws, email: `u${i}@example.com`, lastLoginAt: s, createdAt: new Date('2020-01-01T00:00:00Z') })),
      { workspaceId: ws, email: 'ms@example.com', lastLoginAt: 1612345678000, createdAt: new Date('2020-01-01T00:00:00Z') },
    ]);
    return await work({ MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl }, async (sql) => (await db.pg.query(sql)).rows);
  } finally {
    await db.drop();
  }
}

function configWith(lastLoginAt: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hm-epoch-'));
  const file = join(dir, 'hybrid-migrate.config.mjs');
  writeFileSync(file, `export default { schema: ${JSON.stringify(join(process.cwd(), 'prisma/schema.prisma'))}, collections: { workspaces: {}, users: { model: 'User', fields: { lastLoginAt: ${lastLoginAt} } } } };\n`);
  return file;
}

const lastLogins = async (q: (sql: string) => Promise<unknown[]>) =>
  ((await q(`SELECT to_char(last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS at FROM users ORDER BY email`)) as { at: string }[]).map((r) => r.at);

describe('epoch seconds in a DateTime field', () => {
  it('without the setting: read as milliseconds as before, and plan reports them with what to set', async () => {
    await withUsers(async (env, q) => {
      const out = mkdtempSync(join(tmpdir(), 'hm-epoch-plan-'));
      const plan = await runCli(['plan', 'workspaces', 'users', '--json', '--out', out], env);
      expect(plan.code, plan.stderr).toBe(0);
      const users = (JSON.parse(plan.stdout) as { collections: { name: string; coercions: { field: string; coercion: string; count: number; note?: string }[] }[] }).collections.find((c) => c.name === 'users');
      const finding = users?.coercions.find((c) => c.coercion === 'looks-like-epoch-seconds');
      expect(finding).toMatchObject({ field: 'lastLoginAt', count: SECONDS.length });
      expect(finding?.note).toMatch(/^looks like epoch seconds: 3 value\(s\) of lastLoginAt .* set epoch: 'seconds'/);
      const text = await runCli(['plan', 'workspaces', 'users', '--out', out], env);
      expect(text.stdout).toMatch(/lastLoginAt: looks-like-epoch-seconds 3/);

      const migrated = await runCli(['migrate', 'workspaces', 'users', '--json'], env);
      expect(migrated.code, migrated.stderr).toBe(0);
      expect(JSON.parse(migrated.stdout).collections.find((c: { name: string }) => c.name === 'users').coercions).toMatchObject({ 'lastLoginAt:date-from-epoch-ms': 4, 'lastLoginAt:looks-like-epoch-seconds': 3 });
      expect(await lastLogins(q)).toEqual(['2021-02-03T09:47:58', '1970-01-19T15:52:25', '1970-01-19T15:52:25', '1970-01-20T16:13:20']);
    });
  });

  it("with epoch: 'seconds': migrate writes the instants, plan has nothing to report", async () => {
    await withUsers(async (env, q) => {
      const config = configWith("{ epoch: 'seconds' }");
      const plan = await runCli(['--config', config, 'plan', 'workspaces', 'users', '--json'], env);
      expect(plan.code, plan.stderr).toBe(1); // the epoch-milliseconds value is now far beyond year 9999: rejected, and said so
      const users = (JSON.parse(plan.stdout) as { collections: { name: string; coercions: { coercion: string }[]; rejects: { byPath: { path: string; example: string }[] } }[] }).collections.find((c) => c.name === 'users');
      expect(users?.coercions.map((c) => c.coercion)).not.toContain('looks-like-epoch-seconds');
      expect(users?.rejects.byPath).toMatchObject([{ path: 'lastLoginAt', example: expect.stringMatching(/outside the supported years/) }]);

      const migrated = await runCli(['--config', config, 'migrate', 'workspaces', 'users', '--json'], env);
      expect(migrated.code, migrated.stderr).toBe(0);
      expect(JSON.parse(migrated.stdout).collections.find((c: { name: string }) => c.name === 'users')).toMatchObject({ migrated: 3, rejected: 1, coercions: { 'lastLoginAt:date-from-epoch-seconds': 3 } });
      expect(await lastLogins(q)).toEqual(['2021-02-03T09:47:58', '2021-02-03T09:47:59', '2023-11-14T22:13:20']);
    });
  });
});
