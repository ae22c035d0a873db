/**
 * Runs the real CLI (bin/hybrid-migrate → dist) as operators and cron do: a child process
 * with its own environment, stdout, stderr and exit code. `npm test` builds dist first; a
 * stale build is refused so a test never passes against old code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(root, 'bin', 'hybrid-migrate');
const BUILT = join(root, 'dist', 'src', 'cli', 'main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

let checked = false;
function assertFreshBuild(): void {
  // HM_TEST_DIST_CHECKED=1: the caller built dist/ just before the run while other edits go on in the tree.
  if (checked || process.env.HM_TEST_DIST_CHECKED === '1') return;
  let built = 0;
  try {
    built = statSync(BUILT).mtimeMs;
  } catch {
    throw new Error('dist/ is missing: run "npm run build" (npm test does it) before the CLI tests.');
  }
  for (const dir of ['src', 'dev']) {
    if (newestMtime(join(root, dir)) > built) throw new Error(`dist/ is older than ${dir}/: run "npm run build" (npm test does it) before the CLI tests.`);
  }
  checked = true;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Peak resident set size (VmHWM) in MB, when started with `sampleRss`. */
  peakRssMb?: number;
}

export interface CliEnv {
  MONGO_URI: string;
  DATABASE_URL: string;
  [key: string]: string | undefined;
}

/** Starts the CLI; `done` resolves when it exits. */
export function startCli(args: readonly string[], env: CliEnv, opts: { cwd?: string; sampleRss?: boolean } = {}): { child: ChildProcess; done: Promise<CliResult> } {
  assertFreshBuild();
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  // The kernel's high-water mark only grows, so sampling it often enough sees the peak.
  let peakKb = 0;
  const sampler = opts.sampleRss
    ? setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) peakKb = Math.max(peakKb, Number(m[1]));
        } catch {
          /* exited */
        }
      }, 20)
    : undefined;
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(sampler);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, ...(opts.sampleRss ? { peakRssMb: peakKb / 1024 } : {}) });
    });
  });
  return { child, done };
}

export function runCli(args: readonly string[], env: CliEnv, opts: { cwd?: string; sampleRss?: boolean } = {}): Promise<CliResult> {
  return startCli(args, env, opts).done;
}

/** MONGO_URI for a database on the test server. */
export function mongoUriFor(serverUri: string, db: string): string {
  const u = new URL(serverUri);
  u.pathname = `/${db}`;
  return u.toString();
}
