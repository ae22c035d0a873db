/**
 * A role that may only read: migrate stopped with exit 6, "permission denied for table runs"
 * and the hint "the run stopped part-way; rerunning resumes", which rerunning never fixes
 * (found by a black-box run). Now exit 4, naming the privilege to grant; the password is never
 * printed.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { insertSimpleOrders } from '../support/simple-orders.js';

const t = useTestDatabases();

describe('a PostgreSQL role without the privileges to write', () => {
  it('migrate exits 4 naming the privilege to grant, not 6 "rerunning resumes"; no password printed', async () => {
    await insertSimpleOrders(t.db, 3);
    const role = `hm_ro_${randomBytes(4).toString('hex')}`;
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const dbName = (await t.pg.query<{ d: string }>('SELECT current_database() AS d')).rows[0]?.d as string;
    await t.pg.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    try {
      await t.pg.query(`GRANT CONNECT ON DATABASE "${dbName}" TO ${role}`);
      await t.pg.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
      await t.pg.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
      const url = new URL(t.databaseUrl);
      url.username = role;
      url.password = password;
      const env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: url.toString() };
      const r = await runCli(['migrate', 'workspaces'], env);
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toMatch(/PostgreSQL refused the role in DATABASE_URL a privilege: permission denied/);
      expect(r.stderr).toMatch(/hint: The role needs SELECT, INSERT, UPDATE and DELETE/);
      expect(r.stderr + r.stdout).not.toContain(password);
    } finally {
      await t.pg.query(`DROP OWNED BY ${role}`);
      await t.pg.query(`DROP ROLE ${role}`);
    }
  }, 60_000);
});
