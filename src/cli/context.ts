/**
 * Everything a command needs, assembled once: configuration, Prisma schema, mapping (all
 * checked before any connection is opened), then both connections, opened in parallel so
 * that an unreachable database is reported within seconds.
 */
import { resolve } from 'node:path';
import { ConfigError, ConnectionError } from '../core/errors.js';
import type { MigrationMapping } from '../core/mapping.js';
import { connectionUrlIssue, pgConnectTimeoutMs, type ConnectionVariable } from '../config/connection-urls.js';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import { resolveMapping } from '../config/resolve-mapping.js';
import { loadPrismaSchema, type PrismaSchema } from '../schema/prisma-schema.js';
import { connectMongo, type MongoSource } from '../source/mongo-source.js';
import { connectPostgres, diagnoseTimeout, type PgTarget, type TimeoutDoing } from '../target/pg-target.js';
import { canceledAtDeadline, registerPgSessions } from './interrupt.js';
import { InvalidArgumentError } from 'commander';
import { modelsOfCollections, preflightTarget } from '../target/preflight.js';

export interface GlobalOptions {
  config?: string;
  schema?: string;
  mongoDb?: string;
  json?: boolean;
  verbose?: boolean;
}

export interface Setup {
  loaded: LoadedConfig;
  schema: PrismaSchema;
  mapping: MigrationMapping;
  /** Collections the command works on, in load order. */
  collections: string[];
}

/** Loads configuration and schema and resolves the mapping; every problem is reported at once (exit 3). */
export async function loadSetup(opts: GlobalOptions, requested: readonly string[]): Promise<Setup> {
  const loaded = await loadConfig(opts.config);
  const schemaPath = opts.schema ? resolve(opts.schema) : resolve(loaded.dir, loaded.config.schema ?? 'prisma/schema.prisma');
  const schema = await loadPrismaSchema(schemaPath);
  const configured = Object.keys(loaded.config.collections ?? {});
  const unknown = requested.filter((c) => !configured.includes(c));
  const names = requested.length > 0 ? [...requested] : configured;
  if (names.length === 0) {
    throw new ConfigError([{ path: 'collections', message: 'no collection to work on: name collections on the command line or list them in hybrid-migrate.config.ts' }]);
  }
  const { mapping, issues } = resolveMapping(loaded.config, schema, names);
  // A collection named on the command line but absent from the configuration uses defaults by name; say so only if that fails.
  if (issues.length > 0) throw new ConfigError(issues, { hint: unknown.length > 0 ? unknownCollectionsHint(unknown, configured) : undefined });
  return { loaded, schema, mapping, collections: mapping.loadOrder.filter((n) => names.includes(n)) };
}

/** Says which named collections are not configured, with the configured name each was probably meant as (`shipwreck` → `shipwrecks`). */
export function unknownCollectionsHint(unknown: readonly string[], configured: readonly string[]): string {
  const guesses = unknown.map((name) => {
    const near = closestName(name, configured);
    return near ? `"${name}" (did you mean "${near}"?)` : `"${name}"`;
  });
  return `Not in hybrid-migrate.config.ts: ${guesses.join(', ')}; a collection not in the configuration uses the defaults by name.`;
}

/** The configured name at most 2 edits away (case aside), the nearest first; undefined when none is. */
function closestName(name: string, names: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const candidate of names) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d <= 2 && (!best || d < best.d)) best = { name: candidate, d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length] as number;
}

export interface Connections {
  mongo: MongoSource;
  pg: PgTarget;
  close(): Promise<void>;
}

const ENV_HINT = 'Set MONGO_URI (the MongoDB source) and DATABASE_URL (the PostgreSQL target), as the application does.';

export function requireEnv(env: NodeJS.ProcessEnv): { mongoUri: string; databaseUrl: string } {
  const missing = (['MONGO_URI', 'DATABASE_URL'] as const).filter((k) => !env[k]);
  if (missing.length > 0) {
    throw new ConfigError(
      missing.map((k) => ({ path: k, message: `environment variable ${k} is not set` })),
      { hint: ENV_HINT },
    );
  }
  checkConnectionUrls(env);
  return { mongoUri: env.MONGO_URI as string, databaseUrl: env.DATABASE_URL as string };
}

/**
 * The connection variables that are set must be URLs of the right database (exit 3, one line
 * each naming the variable, what is wrong and the fix; the value is never shown).
 */
export function checkConnectionUrls(env: NodeJS.ProcessEnv, variables: readonly ConnectionVariable[] = ['MONGO_URI', 'DATABASE_URL']): void {
  const issues = variables.flatMap((k) => {
    const value = env[k];
    const issue = value ? connectionUrlIssue(k, value) : undefined;
    return issue ? [issue] : [];
  });
  if (issues.length > 0) throw new ConfigError(issues, { hint: ENV_HINT });
}

/** The application_name of a command's PostgreSQL sessions: operators see it in pg_stat_activity; unique per process. */
export function applicationNameOf(command: string): string {
  return `hybrid-migrate ${command} pid=${process.pid}`;
}

/** Opens both databases in parallel; a failure names the database and never shows a password (exit 4). */
export async function connect(env: NodeJS.ProcessEnv, opts: GlobalOptions & { poolSize?: number; command: string; lockTimeoutMs?: number }): Promise<Connections> {
  const { mongoUri, databaseUrl } = requireEnv(env);
  const [mongo, pg] = await Promise.allSettled([
    connectMongo({ uri: mongoUri, dbName: opts.mongoDb, timeoutMs: 5000 }),
    // DATABASE_URL's own connect_timeout wins over the tool's default (MONGO_URI's timeouts: connectMongo).
    connectPostgres({ url: databaseUrl, max: opts.poolSize ?? 8, timeoutMs: pgConnectTimeoutMs(databaseUrl, 5000), applicationName: applicationNameOf(opts.command), lockTimeoutMs: opts.lockTimeoutMs }),
  ]);
  if (mongo.status === 'rejected' || pg.status === 'rejected') {
    if (mongo.status === 'fulfilled') await mongo.value.close().catch(() => undefined);
    if (pg.status === 'fulfilled') await pg.value.close().catch(() => undefined);
    const errors = [mongo, pg].filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
    if (errors.length === 1) throw errors[0];
    // Neither answered: say so for both, each message already names its database (never its password).
    throw new ConnectionError('MongoDB', `neither database could be reached: ${errors.map((e) => e.message).join('; ')}`, {
      entity: 'MongoDB and PostgreSQL',
      hint: 'Check MONGO_URI (the MongoDB source) and DATABASE_URL (the PostgreSQL target): host, port, credentials, and that both servers are running.',
    });
  }
  registerPgSessions(applicationNameOf(opts.command), databaseUrl);
  return {
    mongo: mongo.value,
    pg: pg.value,
    async close() {
      await Promise.allSettled([mongo.value.close(), pg.value.close()]);
    },
  };
}

/** `--lock-timeout`: '30s', '2m', '500ms', plain seconds, or 0 (wait without limit) → milliseconds. */
export function lockTimeoutArg(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!m) throw new InvalidArgumentError('must be a duration such as 30s, 2m or 500ms (0: wait without limit).');
  const n = Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  if (!Number.isFinite(n) || n > 2_147_483_647) throw new InvalidArgumentError('is too long (at most about 24 days; 0 waits without limit).');
  return Math.round(n);
}

/** PostgreSQL table → collection, for the tables the mapping writes (child tables included): what a timeout names. */
export function tablesOf(setup: Setup): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of setup.collections) {
    const c = setup.mapping.collections.get(name);
    if (!c) continue;
    out.set(c.model.table, name);
    for (const child of c.children) out.set(child.model.table, name);
  }
  return out;
}

/**
 * Runs `work` and turns a PostgreSQL lock_timeout / statement_timeout into a TimeoutError (exit 7)
 * naming the database, the collection, the blocking sessions and the fix, while the pool is still open.
 */
export async function explainingTimeouts<T>(pg: PgTarget, setup: Setup, work: () => Promise<T>, opts: { maxDurationMs?: number; doing?: TimeoutDoing } = {}): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (canceledAtDeadline(e)) {
      // --max-duration is a hard deadline: a batch still waiting for a lock then was canceled (src/cli/interrupt.ts).
      const asLockTimeout = Object.assign(new Error(`--max-duration passed while waiting for a lock: ${(e as Error).message}`), { code: '55P03', cause: e });
      throw await diagnoseTimeout(pg, asLockTimeout, { tables: tablesOf(setup), gaveUp: `--max-duration (${(opts.maxDurationMs ?? 0) / 1000} s) passed while a batch was waiting`, doing: opts.doing });
    }
    throw await diagnoseTimeout(pg, e, { tables: tablesOf(setup), doing: opts.doing });
  }
}

/**
 * The lock_timeout of a command's PostgreSQL sessions: the flag, else the configuration's
 * `lockTimeout` (a duration such as '30s', or milliseconds), else the default (30 s).
 */
export function lockTimeoutOf(flag: number | undefined, setup: Setup): number | undefined {
  if (flag !== undefined) return flag;
  const configured = (setup.loaded.config as { lockTimeout?: unknown }).lockTimeout;
  if (typeof configured === 'number' && Number.isFinite(configured) && configured >= 0) return Math.round(configured);
  if (typeof configured === 'string') {
    try {
      return lockTimeoutArg(configured);
    } catch (e) {
      throw new ConfigError([{ path: 'lockTimeout', message: `${(e as Error).message}` }]);
    }
  }
  return undefined;
}

/**
 * The target compared with the Prisma schema for the tables the command works on, before it
 * writes anything (its own state schema included): exit 3 listing every difference.
 * 'tables' only checks that they exist (rollback deletes rows whatever their columns).
 */
export async function preflight(pg: PgTarget, setup: Setup, depth: 'full' | 'tables' = 'full'): Promise<void> {
  await preflightTarget(pg.pool, setup.schema, { models: modelsOfCollections(setup.mapping, setup.collections), depth, display: pg.display });
}
