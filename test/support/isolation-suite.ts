/**
 * The per-file isolation suite, defined once and run by two test files side by side
 * (isolation-a and isolation-b): both write the SAME table and the SAME collection name with
 * different markers; each must see only its own rows and documents.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestDatabases, useTestDatabases } from './databases.js';

export function defineIsolationSuite(MARKER: string): void {
  describe(`per-file databases (${MARKER})`, () => {
    const t = useTestDatabases();

    it('gets a database cloned from the template: schema present, no rows', async () => {
      expect(t.databaseUrl).toContain(t.mongoDbName);
      const { rows } = await t.pg.query<{ n: string }>('SELECT count(*) AS n FROM workspaces');
      expect(rows[0]?.n).toBe('0');
      expect(await t.db.listCollections().toArray()).toEqual([]);
    });

    it('sees only its own PostgreSQL rows and MongoDB documents', async () => {
      const ids = Array.from({ length: 20 }, () => randomUUID());
      for (const [i, id] of ids.entries()) {
        await t.pg.query('INSERT INTO workspaces (id, name, slug, currency) VALUES ($1, $2, $3, $4)', [id, MARKER, `shared-slug-${i}`, 'MAD']);
        await t.db.collection('workspaces').insertOne({ name: MARKER, slug: `shared-slug-${i}`, i });
        // Give the other file time to interleave its writes with ours.
        await new Promise((r) => setTimeout(r, 10));
      }
      const pgRows = await t.pg.query<{ name: string }>('SELECT DISTINCT name FROM workspaces');
      expect(pgRows.rows).toEqual([{ name: MARKER }]);
      expect(Number((await t.pg.query<{ n: string }>('SELECT count(*) AS n FROM workspaces')).rows[0]?.n)).toBe(ids.length);
      expect(await t.db.collection('workspaces').distinct('name')).toEqual([MARKER]);
      expect(await t.db.collection('workspaces').countDocuments()).toBe(ids.length);
    });

    it('createTestDatabases() gives one more isolated pair that drop() removes', async () => {
      const extra = await createTestDatabases();
      try {
        expect(extra.mongoDbName).not.toBe(t.mongoDbName);
        expect((await extra.pg.query<{ n: string }>('SELECT count(*) AS n FROM workspaces')).rows[0]?.n).toBe('0');
        await extra.db.collection('workspaces').insertOne({ name: `${MARKER}-extra` });
        expect(await t.db.collection('workspaces').countDocuments({ name: `${MARKER}-extra` })).toBe(0);
      } finally {
        await extra.drop();
      }
      const pgLeft = await t.pg.query('SELECT 1 FROM pg_database WHERE datname = $1', [extra.mongoDbName]);
      expect(pgLeft.rowCount).toBe(0);
      const { databases } = await t.mongo.db('admin').admin().listDatabases({ nameOnly: true });
      expect(databases.map((d) => d.name)).not.toContain(extra.mongoDbName);
    });
  });
}
