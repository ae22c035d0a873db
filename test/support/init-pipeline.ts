/**
 * init's acceptance pipeline as a user runs it, through the compiled CLI: `init` into an
 * empty directory → the rendered migration SQL applied to an EMPTY PostgreSQL database →
 * `plan` → `migrate` → `verify`, with no edit in between.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { expect } from 'vitest';
import { createEmptyPostgresDatabase } from './databases.js';
import { mongoUriFor, runCli, type CliResult } from './cli.js';

export interface PipelineRun {
  dir: string;
  init: CliResult;
  plan: CliResult;
  migrate: CliResult;
  verify: CliResult;
  schema: string;
  config: string;
  /** Query the target database (open until `drop`). */
  pg: pg.Pool;
  drop(): Promise<void>;
}

/** The migration SQL init wrote (the one folder under prisma/migrations). */
export function migrationSql(dir: string): string {
  const base = join(dir, 'prisma', 'migrations');
  const folder = readdirSync(base, { withFileTypes: true }).find((d) => d.isDirectory() && d.name.endsWith('_init'));
  if (!folder) throw new Error(`no *_init migration under ${base}`);
  return readFileSync(join(base, folder.name, 'migration.sql'), 'utf8');
}

/** Runs the whole pipeline; stops after the first step that fails (later steps are then `code: null`). */
export async function runInitPipeline(mongoServerUri: string, mongoDb: string, initArgs: readonly string[] = []): Promise<PipelineRun> {
  const dir = mkdtempSync(join(tmpdir(), 'hm-init-'));
  const target = await createEmptyPostgresDatabase();
  const pool = new pg.Pool({ connectionString: target.databaseUrl, max: 2 });
  pool.on('error', () => {});
  const env = { MONGO_URI: mongoUriFor(mongoServerUri, mongoDb), DATABASE_URL: target.databaseUrl };
  const skipped: CliResult = { code: null, signal: null, stdout: '', stderr: 'not run', ms: 0 };
  const run: PipelineRun = {
    dir, init: skipped, plan: skipped, migrate: skipped, verify: skipped, schema: '', config: '', pg: pool,
    drop: async () => {
      await pool.end().catch(() => {});
      await target.drop();
    },
  };
  run.init = await runCli(['init', ...initArgs], env, { cwd: dir });
  if (run.init.code !== 0) return run;
  run.schema = readFileSync(join(dir, 'prisma', 'schema.prisma'), 'utf8');
  run.config = readFileSync(join(dir, 'hybrid-migrate.config.ts'), 'utf8');
  await pool.query(migrationSql(dir));
  run.plan = await runCli(['plan', '--json'], env, { cwd: dir });
  if (run.plan.code !== 0) return run;
  run.migrate = await runCli(['migrate', '--json'], env, { cwd: dir });
  if (run.migrate.code !== 0) return run;
  run.verify = await runCli(['verify', '--no-report', '--json'], env, { cwd: dir });
  return run;
}

/** A failed step's output, for the assertion message. */
export function explain(run: PipelineRun): string {
  return ['init', 'plan', 'migrate', 'verify'].map((s) => {
    const r = run[s as 'init'];
    return `--- ${s} (exit ${r.code})\n${r.stderr.slice(-3000)}\n${r.stdout.slice(0, 6000)}`;
  }).join('\n') + `\n--- schema\n${run.schema}\n--- config\n${run.config}`;
}

/** Every step of the pipeline exited 0 (the message shows each step's output, the schema and the configuration). */
export function expectPipelineOk(run: PipelineRun): void {
  const why = explain(run);
  for (const step of ['init', 'plan', 'migrate', 'verify'] as const) expect(run[step].code, `${step}\n${why}`).toBe(0);
}
