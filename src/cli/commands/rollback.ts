/** `hybrid-migrate rollback [collections...] [--run ID]` */
import { type Command, InvalidArgumentError } from 'commander';
import { rollback, type RollbackResult } from '../../use-cases/rollback/rollback.js';
import { ConfigError, ExitCode } from '../../core/errors.js';
import { connectPostgres } from '../../target/pg-target.js';
import { applicationNameOf, checkConnectionUrls, explainingTimeouts, loadSetup, lockTimeoutArg, lockTimeoutOf, preflight, type Setup } from '../context.js';
import { resolveMapping } from '../../config/resolve-mapping.js';
import type { MappedCollection } from '../../core/mapping.js';
import { registerPgSessions } from '../interrupt.js';
import { ExitWith, type CommandRuntime } from '../program.js';
import { formatDuration, formatInt, table } from '../render.js';
import { positiveInt } from './migrate.js';

interface RollbackFlags {
  run?: string;
  dryRun?: boolean;
  force?: boolean;
  batchSize?: number;
  lockTimeout?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function runId(value: string): string {
  if (!UUID.test(value.trim())) throw new InvalidArgumentError('must be a run id (a UUID, as in "runId" of migrate --json or hybrid_migrate.runs).');
  return value.trim().toLowerCase();
}

export function registerRollback(program: Command, rt: CommandRuntime): void {
  program
    .command('rollback')
    .summary('remove exactly what the migration wrote, never what the application wrote or changed')
    .description(
      'Deletes the rows the migration wrote (hybrid_migrate.id_map says which), with their child rows, in reverse ' +
        'foreign-key order and in batches of one transaction each, then their registry entries, checkpoints, rejects and ' +
        'deferred references, so the collections can be migrated again. Rows the application created are never touched; ' +
        'rows it changed since they were migrated are kept and reported (unless --force); migrated rows that other rows ' +
        'still reference (an application order pointing at a migrated client) are kept and reported as blocked. ' +
        'Never TRUNCATE, never DROP, never an ON DELETE cascade. Interrupted, it resumes when rerun; run twice, it deletes nothing.',
    )
    .argument('[collections...]', 'collections to roll back (default: all configured)')
    .option('--run <id>', 'only the rows written by this migrate run (its runId)', runId)
    .option('--dry-run', 'list what would be deleted, skipped and kept; write nothing')
    .option('--force', 'also delete rows the application changed since they were migrated (never rows it created or references)')
    .option('--batch-size <n>', 'rows per batch and transaction (default 5000)', positiveInt('--batch-size', 100_000))
    .option('--lock-timeout <duration>', 'how long a delete waits for a lock an application transaction holds before the run stops with exit 7, naming the blocker (default 30s; 0: no limit)', lockTimeoutArg)
    .addHelpText(
      'after',
      `
Examples:
  $ hybrid-migrate rollback --dry-run           what would be deleted and what would stay
  $ hybrid-migrate rollback orders              orders (and their items and status history) only
  $ hybrid-migrate rollback --run 3f0c…         only what that migrate run wrote

Exit codes: 0 everything in scope was removed · 1 some rows were kept (changed by the
application or still referenced; listed) · 5 locked by a running migrate · 130 interrupted`,
    )
    .action(async (collections: string[], flags: RollbackFlags) => {
      checkConnectionUrls(rt.env, ['DATABASE_URL']);
      const global = rt.global();
      const setup = await loadSetup(global, collections);
      const url = rt.env.DATABASE_URL;
      if (!url) throw new ConfigError([{ path: 'DATABASE_URL', message: 'environment variable DATABASE_URL is not set' }], { hint: 'Set DATABASE_URL (the PostgreSQL target), as the application does.' });
      const pg = await connectPostgres({ url, max: 4, timeoutMs: 5000, applicationName: applicationNameOf('rollback'), lockTimeoutMs: lockTimeoutOf(flags.lockTimeout, setup) });
      registerPgSessions(applicationNameOf('rollback'), url);
      let result: RollbackResult;
      try {
        // The tables must exist (their columns do not matter to a delete); nothing is written otherwise.
        await preflight(pg, setup, 'tables');
        result = await explainingTimeouts(pg, setup, () => rollback(
          { pool: pg.pool, mapping: setup.mapping, configured: configuredCollections(setup), events: { batchDone: (name, deleted) => rt.logger.debug({ collection: name, deleted }, 'batch committed') } },
          {
            collections: setup.collections,
            runId: flags.run,
            dryRun: Boolean(flags.dryRun),
            force: Boolean(flags.force),
            batchSize: flags.batchSize ?? 5000,
            signal: rt.signal,
          },
        ), { doing: 'rolling back' });
      } finally {
        await pg.close();
      }
      rt.stdout(global.json ? `${JSON.stringify(toJson(result), null, 2)}\n` : renderSummary(result));
      if (result.interrupted) throw new ExitWith(ExitCode.Interrupted);
      if (result.collections.some((c) => c.skippedModified + c.blocked > 0)) throw new ExitWith(ExitCode.DataIssues);
    });
}

/** The --json contract: `{collections: [{name, deleted, skippedModified, blocked}]}` (extended, never renamed). */
function toJson(r: RollbackResult) {
  return {
    rollbackId: r.rollbackId ?? null,
    runId: r.runId,
    dryRun: r.dryRun,
    force: r.force,
    interrupted: r.interrupted,
    collections: r.collections.map((c) => ({
      name: c.name,
      deleted: c.deleted,
      skippedModified: c.skippedModified,
      blocked: c.blocked,
      model: c.model,
      table: c.table,
      status: c.status,
      inScope: c.inScope,
      childRowsDeleted: c.childRowsDeleted,
      alreadyGone: c.alreadyGone,
      referencesCleared: c.referencesCleared,
      blockedReasons: c.blockedReasons,
      samples: c.samples,
      durationMs: c.durationMs,
    })),
  };
}

function renderSummary(r: RollbackResult): string {
  const rows = r.collections.map((c) => [
    c.name,
    c.status,
    formatInt(c.inScope),
    formatInt(c.deleted),
    formatInt(Object.values(c.childRowsDeleted).reduce((a, b) => a + b, 0)),
    formatInt(c.skippedModified),
    formatInt(c.blocked),
    formatInt(c.alreadyGone),
    formatDuration(c.durationMs),
  ]);
  const scope = r.runId ? `rows of run ${r.runId}` : 'rows of every run';
  const out = [
    `${r.dryRun ? 'Rollback dry run (nothing written)' : 'Rollback'}: ${scope}${r.force ? ', --force' : ''}${r.interrupted ? ' — interrupted, rerun to finish' : ''}`,
    '',
    table(
      ['collection', 'status', 'in scope', r.dryRun ? 'would delete' : 'deleted', 'child rows', 'kept: changed', 'kept: referenced', 'already gone', 'duration'],
      rows,
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  ];
  const reasons = r.collections.flatMap((c) => Object.entries(c.blockedReasons).map(([reason, n]) => `  ${c.name}: ${formatInt(n)} ${reason}`));
  if (reasons.length > 0) out.push('', 'Kept because other rows still reference them (roll those back first, or keep them):', ...reasons);
  const modified = r.collections.flatMap((c) => c.samples.skippedModified.map((s) => `  ${c.name} ${s.sourceKey} (${s.uuid})`));
  if (modified.length > 0) out.push('', 'Kept because the application changed them since they were migrated (first ones; --force deletes them):', ...modified);
  const blocked = r.collections.flatMap((c) => c.samples.blocked.map((s) => `  ${c.name} ${s.sourceKey} (${s.uuid}): ${s.reason ?? ''}`));
  if (blocked.length > 0) out.push('', 'Kept because they are referenced (first ones):', ...blocked);
  if (r.dryRun) {
    const deleted = r.collections.flatMap((c) => c.samples.deleted.map((s) => `  ${c.name} ${s.sourceKey} (${s.uuid})`));
    if (deleted.length > 0) out.push('', 'Would delete (first ones):', ...deleted);
  }
  return `${out.join('\n')}\n`;
}

/** Every collection the configuration maps (a rollback names the child rows of the others it meets); those that do not resolve are left out. */
function configuredCollections(setup: Setup): MappedCollection[] {
  return [...resolveMapping(setup.loaded.config, setup.schema).mapping.collections.values()];
}
