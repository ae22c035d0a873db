// The local-server helpers on their less travelled paths, for real: a private PostgreSQL
// cluster (as when nothing answers on 5432), FerretDB dying at start, and operator URLs that
// do not answer — each must fail with one clear line naming the server, and no password.
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { applyPrismaMigrations, DevServerError, ensurePostgres, repoRoot, startFerretdb, startLocalServers } from '../../dev/servers/index.js';
import { testServers } from '../support/databases.js';
import { createDatabase, dropDatabase, ensureTemplateDatabase, newTestDatabaseName, withDatabase, withPgClient } from '../support/postgres-admin.js';

describe('ensurePostgres({ forcePrivate: true })', () => {
  it('starts a private cluster, which takes the migrations, and removes it on stop()', async () => {
    const server = await ensurePostgres({ forcePrivate: true });
    try {
      expect(server.started).toBe(true);
      expect(server.url).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      expect(server.url).not.toContain(':5432/');
      expect(await applyPrismaMigrations(server.url)).toMatchObject({ skipped: [] });
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'`);
      await client.end();
      expect(Number(rows[0]?.n)).toBe(12); // 11 tables + _prisma_migrations
    } finally {
      await server.stop();
    }
    const after = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 2_000 });
    await expect(after.connect()).rejects.toThrow();
  });

  it('names PostgreSQL and hides the password when DATABASE_URL does not answer', async () => {
    const port = await closedPort();
    const err = await ensurePostgres({ env: { DATABASE_URL: `postgresql://app:s3cret-pw@127.0.0.1:${port}/shop` } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DevServerError);
    const message = (err as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toMatch(/^PostgreSQL: cannot connect to DATABASE_URL=postgresql:\/\/app:\*\*\*@127\.0\.0\.1:\d+\/shop: /);
    expect(message).not.toContain('s3cret-pw');
  });
});

describe('startFerretdb', () => {
  let blocker: Server | undefined;
  const blockerSockets: Socket[] = [];
  afterAll(async () => {
    // close() waits for open sockets: the pings FerretDB's start-up made to our port.
    for (const socket of blockerSockets) socket.destroy();
    await new Promise<void>((r) => (blocker ? blocker.close(() => r()) : r()));
  });

  it('starts on a free port, answers ping, and stops', async () => {
    const ferret = await startFerretdb();
    const client = new MongoClient(ferret.uri);
    try {
      await client.connect();
      const info = await client.db('admin').command({ buildInfo: 1 });
      expect(info.ferretdbVersion).toBe('v1.24.2');
    } finally {
      await client.close();
      await ferret.stop();
    }
    expect(() => process.kill(ferret.pid, 0)).toThrow();
  });

  it('fails with FerretDB\'s stderr tail when it dies at start (port taken)', async () => {
    blocker = createServer((socket) => blockerSockets.push(socket));
    const port = await new Promise<number>((resolve) =>
      blocker!.listen(0, '127.0.0.1', () => resolve((blocker!.address() as { port: number }).port)),
    );
    const err = await startFerretdb({ port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DevServerError);
    const [first, ...rest] = (err as Error).message.split('\n');
    expect(first).toMatch(/^FerretDB: exited \(\d+\) before answering ping on 127\.0\.0\.1:\d+$/);
    expect(rest.join('\n')).toContain('address already in use');
  });
});

describe('startLocalServers', () => {
  it('names MongoDB and hides the password when MONGO_URI does not answer', async () => {
    const port = await closedPort();
    const err = await startLocalServers({
      env: { MONGO_URI: `mongodb://shop:p4ss-w0rd@127.0.0.1:${port}/?serverSelectionTimeoutMS=1000`, DATABASE_URL: process.env.DATABASE_URL },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DevServerError);
    expect((err as Error).message).toMatch(/^MongoDB: cannot reach MONGO_URI=mongodb:\/\/shop:\*\*\*@127\.0\.0\.1:\d+: /);
    expect((err as Error).message).not.toContain('p4ss-w0rd');
  });
});

describe('ensureTemplateDatabase', () => {
  it('lets concurrent runs build the same template: one wins, all get a complete template', async () => {
    const { adminDatabaseUrl } = testServers();
    // A migrations directory of our own, so the template name (a hash of the SQL) is fresh.
    const dir = await mkdtemp(join(tmpdir(), 'hm-migrations-'));
    const init = join(dir, '20261124000000_init');
    await mkdir(init);
    const sql = await readFile(join(repoRoot(), 'prisma', 'migrations', '20261124000000_init', 'migration.sql'), 'utf8');
    await writeFile(join(init, 'migration.sql'), `${sql}\n-- ${randomUUID()}\n`);
    let name: string | undefined;
    try {
      const results = await Promise.all([1, 2, 3].map(() => ensureTemplateDatabase(adminDatabaseUrl, dir)));
      name = results[0]!.name;
      expect(new Set(results.map((r) => r.name)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const rows = await withPgClient(adminDatabaseUrl, async (c) =>
        (await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${name}%`])).rows,
      );
      expect(rows).toEqual([{ datname: name }]); // no half-built leftovers
      const clone = newTestDatabaseName();
      await createDatabase(adminDatabaseUrl, clone, name);
      const count = await withPgClient(withDatabase(adminDatabaseUrl, clone), async (c) =>
        (await c.query<{ n: string }>(`SELECT count(*) AS n FROM "_prisma_migrations" WHERE finished_at IS NOT NULL`)).rows[0]?.n,
      );
      await dropDatabase(adminDatabaseUrl, clone);
      expect(count).toBe('1');
    } finally {
      if (name) await dropDatabase(adminDatabaseUrl, name);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** A port nothing listens on (bound, read, released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
