/**
 * PostgreSQL administration for the test harness: database names, URLs, creating and dropping
 * databases, and the template database that per-file databases are cloned from
 * (graphile-worker style: migrate once, then `CREATE DATABASE ... TEMPLATE`). With today's single
 * migration a clone (~0.2 s) costs about what create + migrate does; the template keeps that cost
 * flat as migrations accumulate, and every file starts from byte-identical schema.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { applyPrismaMigrations, readMigrations } from '../../dev/servers/index.js';

/** Prefix of per-test-file databases (PostgreSQL and MongoDB alike). */
export const TEST_DB_PREFIX = 'hm_t_';
/** Prefix of template databases; the suffix is a hash of every migration.sql. */
export const TEMPLATE_DB_PREFIX = 'hm_tpl_';
/** Databases of runs that died without cleaning up are dropped after this long. */
const STALE_AFTER_MS = 12 * 60 * 60_000;

/** `hm_t_<base36 ms>_<random>`: unique, and its age can be read back from the name. */
export function newTestDatabaseName(prefix = TEST_DB_PREFIX): string {
  return `${prefix}${Date.now().toString(36)}_${randomBytes(5).toString('hex')}`;
}

/** Milliseconds since a name from {@link newTestDatabaseName} was made, or undefined. */
export function ageOfTestDatabaseName(name: string, prefix = TEST_DB_PREFIX): number | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const stamp = name.slice(prefix.length).split('_')[0] ?? '';
  const ms = Number.parseInt(stamp, 36);
  return Number.isFinite(ms) && ms > 0 ? Date.now() - ms : undefined;
}

export function isStaleTestDatabase(name: string, prefix = TEST_DB_PREFIX): boolean {
  const age = ageOfTestDatabaseName(name, prefix);
  return age !== undefined && age > STALE_AFTER_MS;
}

/** The same server URL pointing at another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Runs `fn` with a client connected to `url`, always closing it. */
export async function withPgClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createDatabase(adminUrl: string, name: string, template?: string): Promise<void> {
  const sql = `CREATE DATABASE ${quoteIdent(name)}${template ? ` TEMPLATE ${quoteIdent(template)}` : ''}`;
  // A template must have no sessions; a backend that just closed may linger a moment (55006).
  await retryOn(['55006'], () => withPgClient(adminUrl, (c) => c.query(sql)));
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withPgClient(adminUrl, async (c) => {
    await c.query(`ALTER DATABASE ${quoteIdent(name)} IS_TEMPLATE false`).catch(() => {});
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  });
}

async function retryOn<T>(codes: string[], fn: () => Promise<T>, attempts = 50): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !codes.includes((err as { code?: string }).code ?? '')) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** `hm_tpl_<first 8 hex of sha256 over every migration's name and checksum>`. */
export async function templateDatabaseName(migrationsDir?: string): Promise<string> {
  const hash = createHash('sha256');
  for (const m of await readMigrations(migrationsDir)) hash.update(`${m.name}\0${m.checksum}\n`);
  return `${TEMPLATE_DB_PREFIX}${hash.digest('hex').slice(0, 8)}`;
}

export interface TemplateResult {
  name: string;
  /** False when an existing complete template was reused. */
  created: boolean;
  ms: number;
}

/**
 * Ensures the template database exists with every migration applied. It is built under a
 * temporary name and renamed only when complete, so its existence means complete, and
 * concurrent test runs (other engineers, same server) never see or clone a half-built one.
 * It is then closed to connections so nothing can block `CREATE DATABASE ... TEMPLATE`.
 */
export async function ensureTemplateDatabase(adminUrl: string, migrationsDir?: string): Promise<TemplateResult> {
  const started = Date.now();
  const name = await templateDatabaseName(migrationsDir);
  const exists = async () =>
    withPgClient(adminUrl, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);
  if (await exists()) return { name, created: false, ms: Date.now() - started };

  const building = newTestDatabaseName(`${name}_b`);
  await createDatabase(adminUrl, building);
  try {
    await applyPrismaMigrations(withDatabase(adminUrl, building), migrationsDir);
    await retryOn(['55006'], () =>
      withPgClient(adminUrl, async (c) => {
        // Best effort: a non-superuser operator account may not be allowed to set these.
        await c.query(`ALTER DATABASE ${quoteIdent(building)} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true`).catch((err: { code?: string }) => {
          if (err.code !== '42501') throw err;
        });
        await c.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(name)}`);
      }),
    );
    return { name, created: true, ms: Date.now() - started };
  } catch (err) {
    await dropDatabase(adminUrl, building).catch(() => {});
    // Another run renamed its build into place first: theirs is just as good. PostgreSQL says so
    // with duplicate_database, or, when both renames run at the same instant, with the unique
    // violation of pg_database's name index (seen in a clean-clone CI run).
    if (['42P04', '23505'].includes((err as { code?: string }).code ?? '') && (await exists())) return { name, created: false, ms: Date.now() - started };
    throw err;
  }
}

/** Drops per-file and half-built template databases left by runs that died (older than 12 h). */
export async function dropStaleDatabases(adminUrl: string): Promise<string[]> {
  const { rows } = await withPgClient(adminUrl, (c) =>
    c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'hm\\_t\\_%' OR datname LIKE 'hm\\_tpl\\_%\\_b%'`),
  );
  const stale = rows
    .map((r) => r.datname)
    .filter((n) => isStaleTestDatabase(n) || isStaleTestDatabase(n, /^hm_tpl_[0-9a-f]{8}_b/.exec(n)?.[0] ?? TEST_DB_PREFIX));
  for (const n of stale) await dropDatabase(adminUrl, n).catch(() => {});
  return stale;
}
