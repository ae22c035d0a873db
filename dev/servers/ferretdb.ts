/**
 * FerretDB v1 as a local stand-in for MongoDB: no mongod can be installed on these machines,
 * but FerretDB is a Go module the module proxy serves. It is built once per version and
 * cached; each start gets its own SQLite directory and port.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, chmod, constants, cp, mkdir, mkdtemp, open, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { DevServerError, oneLine, tailLines } from './errors.js';
import { findFreePort, runCommand, sleep, terminate, type LogLine } from './process.js';

/** The last FerretDB release with the SQLite handler (v2 needs a PostgreSQL extension). */
export const FERRETDB_VERSION = 'v1.24.2';
const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';

export interface EnsureFerretdbOptions {
  log?: LogLine;
  /** Defaults to process.env. `FERRETDB_BIN` names a ready binary; `XDG_CACHE_HOME` moves the cache. */
  env?: NodeJS.ProcessEnv;
}

/** Where the binary of {@link FERRETDB_VERSION} is cached. */
export function ferretdbCachePath(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cacheHome, 'hybrid-migrate', `ferretdb-${FERRETDB_VERSION}`, 'ferretdb');
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns the path of a FerretDB binary: `FERRETDB_BIN` as is, else the cached build, else
 * builds it (about a minute) under a lock file so that concurrent callers build it once.
 */
export async function ensureFerretdbBinary(opts: EnsureFerretdbOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  if (env.FERRETDB_BIN) {
    if (!(await isExecutable(env.FERRETDB_BIN))) {
      throw new DevServerError('FerretDB', `FERRETDB_BIN=${env.FERRETDB_BIN} is not an executable file`, {
        hint: 'Unset FERRETDB_BIN to build FerretDB automatically, or point it at a ferretdb binary.',
      });
    }
    return env.FERRETDB_BIN;
  }
  const binary = ferretdbCachePath(env);
  const dir = join(binary, '..');
  await mkdir(dir, { recursive: true });
  const lockPath = `${binary}.lock`;
  const deadline = Date.now() + 20 * 60_000;
  let announcedWait = false;
  while (Date.now() < deadline) {
    if (await isExecutable(binary)) return binary;
    const lock = await tryLock(lockPath);
    if (lock) {
      try {
        // Another process may have finished between our check and taking the lock.
        if (await isExecutable(binary)) return binary;
        await buildFerretdb(binary, env, log);
        return binary;
      } finally {
        await unlink(lockPath).catch(() => {});
      }
    }
    if (!announcedWait) {
      log(`FerretDB ${FERRETDB_VERSION}: another process is building it (${lockPath}); waiting`);
      announcedWait = true;
    }
    await sleep(1_000);
  }
  throw new DevServerError('FerretDB', `timed out waiting for the build lock ${lockPath}`, {
    hint: `Delete ${lockPath} if no build is running.`,
  });
}

/** Creates the lock file with our pid; clears a lock whose owner is dead. Returns false if held. */
async function tryLock(lockPath: string): Promise<boolean> {
  try {
    const handle = await open(lockPath, 'wx');
    await handle.writeFile(String(process.pid));
    await handle.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const owner = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
  if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) await unlink(lockPath).catch(() => {});
  return false;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `go install ...@v1.24.2` yields a binary that panics at start (the module zip lacks
 * build/version/version.txt, upstream issue 2982), so: download the module, copy it, add the
 * version file, build inside the copy. Output goes to a temp file renamed into place.
 */
async function buildFerretdb(binary: string, env: NodeJS.ProcessEnv, log: LogLine): Promise<void> {
  const started = Date.now();
  log(`FerretDB ${FERRETDB_VERSION}: building into ${binary} (about a minute, once)`);
  const work = await mkdtemp(join(tmpdir(), 'hm-ferretdb-build-'));
  const goEnv = { ...env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod -buildvcs=false', GOWORK: 'off' };
  try {
    // `go mod download` of a specific version needs to run inside some module.
    const anchor = join(work, 'anchor');
    await mkdir(anchor);
    await writeFile(join(anchor, 'go.mod'), 'module hybridmigrate/ferretdbanchor\n\ngo 1.21\n');
    const download = await go(['mod', 'download', '-json', `${FERRETDB_MODULE}@${FERRETDB_VERSION}`], anchor, goEnv);
    let moduleDir: string | undefined;
    try {
      moduleDir = (JSON.parse(download.stdout) as { Dir?: string; Error?: string }).Dir;
    } catch {
      moduleDir = undefined;
    }
    if (download.code !== 0 || !moduleDir) {
      throw new DevServerError('FerretDB', `"go mod download ${FERRETDB_MODULE}@${FERRETDB_VERSION}" failed (is the Go module proxy reachable?)`, {
        stderrTail: tailLines(download.stderr + '\n' + download.stdout),
      });
    }
    const source = join(work, 'src');
    await cp(moduleDir, source, { recursive: true });
    await makeWritable(source);
    await mkdir(join(source, 'build', 'version'), { recursive: true });
    await writeFile(join(source, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    const partial = `${binary}.${process.pid}.partial`;
    const build = await go(['build', '-o', partial, './cmd/ferretdb'], source, goEnv);
    if (build.code !== 0) {
      await rm(partial, { force: true });
      throw new DevServerError('FerretDB', `"go build ./cmd/ferretdb" failed (exit ${build.code})`, { stderrTail: tailLines(build.stderr) });
    }
    const check = await runCommand(partial, ['--version']);
    if (check.code !== 0) {
      await rm(partial, { force: true });
      throw new DevServerError('FerretDB', `the freshly built binary does not run ("ferretdb --version" exited ${check.code})`, {
        stderrTail: tailLines(check.stderr + '\n' + check.stdout),
      });
    }
    await rename(partial, binary);
    log(`FerretDB ${FERRETDB_VERSION}: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await rm(work, { recursive: true, force: true }).catch(() => {});
  }
}

async function go(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  try {
    return await runCommand('go', args, { cwd, env });
  } catch (err) {
    throw new DevServerError('FerretDB', `cannot run "go" to build FerretDB: ${oneLine(err)}`, {
      hint: 'Install Go 1.21+ and put it on PATH, or set FERRETDB_BIN to a ready ferretdb binary.',
      cause: err,
    });
  }
}

/** The module cache is read-only; the copy must be writable to add the version file and to be deleted. */
async function makeWritable(dir: string): Promise<void> {
  const result = await runCommand('chmod', ['-R', 'u+w', dir]);
  if (result.code !== 0) await chmod(dir, 0o755);
}

export interface StartFerretdbOptions {
  /** Defaults to a free port. */
  port?: number;
  /** SQLite directory; defaults to a temp directory removed by stop(). A given directory is kept. */
  dataDir?: string;
  log?: LogLine;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the first successful ping. Default 60 s. */
  startTimeoutMs?: number;
}

export interface RunningFerretdb {
  /** `mongodb://127.0.0.1:<port>/?directConnection=true` — no database, no credentials. */
  uri: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Starts FerretDB on SQLite and resolves once it answers a MongoDB `ping`. */
export async function startFerretdb(opts: StartFerretdbOptions = {}): Promise<RunningFerretdb> {
  const log = opts.log ?? (() => {});
  const binary = await ensureFerretdbBinary({ log, env: opts.env });
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'hm-ferretdb-data-')));
  await mkdir(dataDir, { recursive: true });
  const port = opts.port ?? (await findFreePort());
  const args = [
    '--handler=sqlite',
    `--sqlite-url=file:${dataDir.endsWith('/') ? dataDir : `${dataDir}/`}`,
    `--listen-addr=127.0.0.1:${port}`,
    '--telemetry=disable',
    '--state-dir=-',
    '--log-level=warn',
    // Its metrics/pprof listener defaults to the fixed port 8088, which parallel instances would fight over.
    '--debug-addr=-',
  ];
  // setpriv --pdeathsig: FerretDB dies with us even if we are killed before stop() runs.
  const [command, commandArgs] = existsSync('/usr/bin/setpriv')
    ? ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', binary, ...args]]
    : [binary, args];
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'ignore', 'pipe'], env: opts.env ?? process.env });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-20_000);
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  const cleanup = async () => {
    await terminate(child);
    if (ownDir) await rm(dataDir, { recursive: true, force: true }).catch(() => {});
  };
  const uri = `mongodb://127.0.0.1:${port}/?directConnection=true`;
  try {
    await waitForPing(uri, () => {
      if (spawnError) return `could not start ${binary}: ${spawnError.message}`;
      if (child.exitCode !== null || child.signalCode !== null) {
        return `exited (${child.exitCode ?? child.signalCode}) before answering ping on 127.0.0.1:${port}`;
      }
      return undefined;
    }, opts.startTimeoutMs ?? 60_000);
  } catch (err) {
    await cleanup();
    const reason = err instanceof Error ? err.message : String(err);
    throw new DevServerError('FerretDB', reason, { stderrTail: tailLines(stderr), cause: err });
  }
  log(`FerretDB ${FERRETDB_VERSION} listening on 127.0.0.1:${port} (pid ${child.pid}, data ${dataDir})`);
  let stopping: Promise<void> | undefined;
  return { uri, port, pid: child.pid ?? -1, stop: () => (stopping ??= cleanup()) };
}

/** Pings until it answers; `died()` returns a reason when the process is gone. */
async function waitForPing(uri: string, died: () => string | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    const reason = died();
    if (reason) throw new Error(reason);
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (err) {
      lastError = oneLine(err);
    } finally {
      await client.close().catch(() => {});
    }
    await sleep(100);
  }
  throw new Error(`did not answer ping within ${Math.round(timeoutMs / 1000)} s (last error: ${lastError})`);
}
