// The repository's Prisma migration applied to an EMPTY database by our offline applier:
// every table, the foreign keys and unique constraints the tool relies on, and a
// `_prisma_migrations` record that a real `prisma migrate deploy` would accept.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPrismaMigrations, repoRoot } from '../../dev/servers/index.js';
import { createEmptyPostgresDatabase } from '../support/databases.js';

const TABLES = [
  'clients', 'decisions', 'goals', 'order_items', 'order_status_history', 'orders',
  'products', 'reports', 'transactions', 'users', 'workspaces',
];
const INIT = '20261124000000_init';

describe('prisma/migrations applied to an empty database', () => {
  let empty: Awaited<ReturnType<typeof createEmptyPostgresDatabase>>;
  let client: pg.Client;
  let firstRun: Awaited<ReturnType<typeof applyPrismaMigrations>>;

  beforeAll(async () => {
    empty = await createEmptyPostgresDatabase();
    firstRun = await applyPrismaMigrations(empty.databaseUrl);
    client = new pg.Client({ connectionString: empty.databaseUrl });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await empty?.drop();
  });

  it('applies the init migration', () => {
    expect(firstRun).toEqual({ applied: [INIT], skipped: [] });
  });

  it('creates all 11 application tables', async () => {
    const { rows } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'
        ORDER BY table_name`,
    );
    expect(rows.map((r) => r.table_name)).toEqual(TABLES);
  });

  it('has the foreign keys the migration order depends on', async () => {
    const fk = async (name: string) =>
      (await client.query<{ child: string; parent: string; del: string; cols: string }>(
        `SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent, c.confdeltype AS del,
                (SELECT string_agg(a.attname, ',' ORDER BY a.attnum) FROM pg_attribute a
                  WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)) AS cols
           FROM pg_constraint c WHERE c.contype = 'f' AND c.conname = $1`,
        [name],
      )).rows[0];
    expect(await fk('users_workspace_id_fkey')).toEqual({ child: 'users', parent: 'workspaces', del: 'r', cols: 'workspace_id' });
    expect(await fk('orders_client_id_fkey')).toEqual({ child: 'orders', parent: 'clients', del: 'n', cols: 'client_id' });
    expect(await fk('order_items_order_id_fkey')).toEqual({ child: 'order_items', parent: 'orders', del: 'c', cols: 'order_id' });
    expect(await fk('workspaces_owner_id_fkey')).toEqual({ child: 'workspaces', parent: 'users', del: 'n', cols: 'owner_id' });
  });

  it('enforces users(workspace_id, email) and clients(workspace_id, phone) uniqueness', async () => {
    const unique = async (index: string) =>
      (await client.query<{ def: string }>(`SELECT pg_get_indexdef($1::regclass) AS def`, [index])).rows[0]?.def;
    expect(await unique('users_workspace_id_email_key')).toMatch(/CREATE UNIQUE INDEX .* ON public\.users .*\(workspace_id, email\)/);
    expect(await unique('clients_workspace_id_phone_key')).toMatch(/CREATE UNIQUE INDEX .* ON public\.clients .*\(workspace_id, phone\)/);

    // And it really rejects a duplicate, with the SQLSTATE the tool maps.
    const ws = '00000000-0000-4000-8000-000000000001';
    await client.query(`INSERT INTO workspaces (id, name, slug, currency) VALUES ($1, 'w', 'w', 'MAD')`, [ws]);
    const user = `INSERT INTO users (id, workspace_id, email) VALUES (gen_random_uuid(), $1, 'a@example.com')`;
    await client.query(user, [ws]);
    await expect(client.query(user, [ws])).rejects.toMatchObject({ code: '23505', constraint: 'users_workspace_id_email_key' });
  });

  it('records the migration in _prisma_migrations like Prisma does', async () => {
    const file = await readFile(join(repoRoot(), 'prisma', 'migrations', INIT, 'migration.sql'));
    const { rows } = await client.query(`SELECT * FROM "_prisma_migrations"`);
    expect(rows).toHaveLength(1);
    const row = rows[0];
    expect(row).toMatchObject({
      migration_name: INIT,
      checksum: createHash('sha256').update(file).digest('hex'),
      logs: null,
      rolled_back_at: null,
      applied_steps_count: 1,
    });
    expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(row.finished_at).toBeInstanceOf(Date);
    expect(row.started_at.getTime()).toBeLessThanOrEqual(row.finished_at.getTime());

    const columns = await client.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns.rows.map((c) => `${c.column_name}:${c.data_type}`)).toEqual([
      'id:character varying', 'checksum:character varying', 'finished_at:timestamp with time zone',
      'migration_name:character varying', 'logs:text', 'rolled_back_at:timestamp with time zone',
      'started_at:timestamp with time zone', 'applied_steps_count:integer',
    ]);
  });

  it('is a no-op when applied twice', async () => {
    const before = await client.query(`SELECT id, finished_at FROM "_prisma_migrations"`);
    expect(await applyPrismaMigrations(empty.databaseUrl)).toEqual({ applied: [], skipped: [INIT] });
    const after = await client.query(`SELECT id, finished_at FROM "_prisma_migrations"`);
    expect(after.rows).toEqual(before.rows);
  });
});
