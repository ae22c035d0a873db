/**
 * A PostgreSQL server for tests and the demo: the operator's DATABASE_URL, else the machine's
 * server on 127.0.0.1:5432 (trust auth), else a private throwaway cluster in a temp directory.
 */
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { redactUri } from '../../src/core/redact.js';
import { DevServerError, oneLine, tailLines } from './errors.js';
import { findFreePort, runCommand, type LogLine } from './process.js';

/** The machine's server, used when it answers and DATABASE_URL is not set. */
export const LOCAL_POSTGRES_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface EnsurePostgresOptions {
  /** Defaults to process.env; `DATABASE_URL` wins, `PG_BINDIR` names initdb/pg_ctl's directory. */
  env?: NodeJS.ProcessEnv;
  log?: LogLine;
  /** Skip DATABASE_URL and 127.0.0.1:5432 and start a private cluster (tests this path for real). */
  forcePrivate?: boolean;
}

export interface RunningPostgres {
  /** A URL of a database the caller may use for administration (CREATE DATABASE ...). */
  url: string;
  /** True when this call started a private cluster; stop() then removes it. */
  started: boolean;
  stop(): Promise<void>;
}

/** Resolves to a PostgreSQL server that answers, starting a private cluster if needed. */
export async function ensurePostgres(opts: EnsurePostgresOptions = {}): Promise<RunningPostgres> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const noop = async () => {};
  if (!opts.forcePrivate && env.DATABASE_URL) {
    const error = await probe(env.DATABASE_URL);
    if (error) {
      throw new DevServerError('PostgreSQL', `cannot connect to DATABASE_URL=${redactUri(env.DATABASE_URL)}: ${error}`, {
        hint: 'Fix DATABASE_URL, or unset it to use 127.0.0.1:5432 or a private cluster.',
      });
    }
    log(`PostgreSQL: using DATABASE_URL=${redactUri(env.DATABASE_URL)}`);
    return { url: env.DATABASE_URL, started: false, stop: noop };
  }
  if (!opts.forcePrivate && (await probe(LOCAL_POSTGRES_URL, 2_000)) === undefined) {
    log(`PostgreSQL: using ${redactUri(LOCAL_POSTGRES_URL)}`);
    return { url: LOCAL_POSTGRES_URL, started: false, stop: noop };
  }
  return startPrivateCluster(env, log);
}

/** Connects and runs SELECT 1; returns the reason on failure. */
export async function probe(url: string, timeoutMs = 5_000): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return oneLine(err) || (err as { code?: string }).code || 'connection failed';
  } finally {
    await client.end().catch(() => {});
  }
}

/** The newest /usr/lib/postgresql/<major>/bin holding initdb, or PG_BINDIR. */
function findBinDir(env: NodeJS.ProcessEnv): string {
  if (env.PG_BINDIR) return env.PG_BINDIR;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => existsSync(join(root, d, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors[0] === undefined) {
    throw new DevServerError('PostgreSQL', 'no server answers and initdb was not found under /usr/lib/postgresql/*/bin', {
      hint: 'Install the PostgreSQL server package, start a server, or set DATABASE_URL (or PG_BINDIR).',
    });
  }
  return join(root, majors[0], 'bin');
}

/**
 * initdb refuses to run as root, so as root the cluster is created and run by the `postgres`
 * OS user (which the server package creates) and the temp directory is handed to it.
 */
async function startPrivateCluster(env: NodeJS.ProcessEnv, log: LogLine): Promise<RunningPostgres> {
  const binDir = findBinDir(env);
  const asRoot = process.getuid?.() === 0;
  const asServerUser = (command: string, args: string[]) =>
    asRoot ? runCommand('runuser', ['-u', 'postgres', '--', command, ...args]) : runCommand(command, args);
  const base = await mkdtemp(join(tmpdir(), 'hm-pg-'));
  const dataDir = join(base, 'data');
  const logFile = join(base, 'server.log');
  const remove = () => rm(base, { recursive: true, force: true }).catch(() => {});
  try {
    await chmod(base, 0o700);
    if (asRoot) {
      const chown = await runCommand('chown', ['postgres:', base]);
      if (chown.code !== 0) throw new DevServerError('PostgreSQL', `cannot hand ${base} to the postgres OS user`, { stderrTail: chown.stderr });
    }
    const started = Date.now();
    const init = await asServerUser(join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
    if (init.code !== 0) {
      throw new DevServerError('PostgreSQL', `initdb failed (exit ${init.code}) in ${dataDir}`, { stderrTail: tailLines(init.stderr + '\n' + init.stdout) });
    }
    const port = await findFreePort();
    // A test cluster: durability is not wanted, speed is.
    const serverOptions = `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    const start = await asServerUser(join(binDir, 'pg_ctl'), ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', serverOptions, 'start']);
    if (start.code !== 0) {
      const serverLog = await readFile(logFile, 'utf8').catch(() => '');
      throw new DevServerError('PostgreSQL', `pg_ctl start failed (exit ${start.code}) on port ${port}`, {
        stderrTail: tailLines(start.stderr + '\n' + serverLog),
      });
    }
    const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    log(`PostgreSQL: started a private cluster on 127.0.0.1:${port} in ${((Date.now() - started) / 1000).toFixed(1)} s (${base})`);
    let stopping: Promise<void> | undefined;
    const stop = async () => {
      await asServerUser(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      await remove();
    };
    return { url, started: true, stop: () => (stopping ??= stop()) };
  } catch (err) {
    await remove();
    if (err instanceof DevServerError) throw err;
    throw new DevServerError('PostgreSQL', `cannot start a private cluster: ${oneLine(err)}`, { cause: err });
  }
}
