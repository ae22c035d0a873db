/** `hybrid-migrate migrate [collections...]` */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { migrate, type MigrateResult } from '../../use-cases/migrate/migrate.js';
import { readFile } from 'node:fs/promises';
import { ConfigError, ExitCode, UsageError } from '../../core/errors.js';
import { DEFAULT_MEMORY_BUDGET_MB } from '../../runtime/memory-budget.js';
import { defaultRangeCount, MAX_RANGES } from '../../source/partitions.js';
import { referencesToUnmigrated, unmigratedReferenceLine } from '../../use-cases/migrate/reference-order.js';
import { connect, explainingTimeouts, loadSetup, lockTimeoutArg, lockTimeoutOf, preflight, type Connections, type Setup } from '../context.js';
import { ExitWith, type CommandRuntime } from '../program.js';
import { createProgress } from '../progress.js';
import { reportDirFor, writeDryRunReport } from '../../report/write-report.js';
import { loadLatestPlan, planDirectory } from '../../pipeline/drift-check.js';
import { recordRunMetrics } from '../../state/runs.js';
import { checkSourceCollections } from '../../source/mongo-source.js';
import { formatDuration, formatInt, rate, table } from '../render.js';
import { runChangeDetection, type ChangeDetectionResult } from '../../use-cases/incremental/change-detection-run.js';
import { cancelLockWaitsAfter } from '../interrupt.js';

export function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}.`);
    }
    return n;
  };
}

/** '90s', '5m', '1h', '250ms' or plain seconds → milliseconds. */
export function duration(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!m) throw new InvalidArgumentError('must be a duration such as 90s, 5m or 1h.');
  const n = Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive duration.');
  return Math.round(n);
}

async function readPlanFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (cause) {
    throw new ConfigError([{ path: '--plan', message: `cannot read plan file "${path}": ${(cause as Error).message}` }]);
  }
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be an integer ≥ 0.');
  return n;
}

interface MigrateFlags {
  dryRun?: boolean;
  restart?: boolean;
  incremental?: boolean;
  acceptSource?: boolean;
  detectDeletes?: boolean;
  detectChanges?: boolean;
  overlap?: number;
  maxDuration?: number;
  report?: string | boolean;
  plan?: string;
  batchSize?: number;
  concurrency?: number;
  maxRejects?: number;
  memoryBudget: number;
  partitionSize: number;
  ranges: number;
  lockTimeout?: number;
  skipMissingCollections?: boolean;
}

export function registerMigrate(program: Command, rt: CommandRuntime): void {
  program
    .command('migrate')
    .summary('stream collections into their Prisma models, resumably')
    .description(
      'Streams each collection in _id order, in batches, into its Prisma model\'s table. Every batch commits ' +
        'with its rows, their ObjectId→UUID registry entries and its checkpoint in one transaction, so an ' +
        'interrupted run (Ctrl-C, kill -9, lost connection) resumes exactly where it stopped when rerun. ' +
        'Documents that cannot be converted are set aside in hybrid_migrate.rejects with the field and the ' +
        'reason; the run goes on. Without collection names: every configured collection, in foreign-key order.',
    )
    .argument('[collections...]', 'collections to migrate (default: all configured)')
    .option('--dry-run', 'read and convert everything, check references, write nothing')
    .option('--restart', 'start the named collections over: checkpoints reset, rows upserted (never deleted), rows changed by the application kept')
    .option('--incremental', 'then sync what changed in MongoDB since the last run: new documents by _id, changed ones by updatedAt (cron)')
    .option('--accept-source', "record MONGO_URI's database as the one this target is migrated from: once, after the source really moved (a restore under another name); without it a run against another database than the recorded one is refused (exit 3)")
    .option('--detect-deletes', 'with --incremental: compare id sets to remove (or mark) rows whose documents were deleted, and migrate documents no cursor could see')
    .option('--detect-changes', 'with --incremental: one ordered _id pass comparing each document\'s fingerprint with the one recorded at migration, to sync changes no updatedAt shows (collections without a maintained updatedAt)')
    .option('--overlap <duration>', 'with --incremental: read changed documents again from this long before the last cursor (default 5m)', duration)
    .option('--plan <file>', 'the plan to compare the source with (default: migrations-state/plan-latest.json next to the configuration)')
    .option('--report [dir]', 'with --dry-run: also write a Markdown and HTML report (default: migrations-state/reports/ next to the configuration)')
    .option('--max-duration <duration>', 'stop cleanly at the next batch boundary after this long (e.g. 50m); the next run continues', duration)
    .option('--batch-size <n>', 'documents per batch and transaction (default 5000)', positiveInt('--batch-size', 100_000))
    .option('--concurrency <n>', 'collections and _id ranges worked on in parallel (default 4)', positiveInt('--concurrency', 64))
    .option(
      '--ranges <n>',
      'at most n _id ranges of one collection read and written in parallel (on a real MongoDB, collections of more than 500,000 documents are split); the default is one per two CPU cores, since every range shares one conversion thread',
      positiveInt('--ranges', MAX_RANGES),
      defaultRangeCount(),
    )
    .option('--max-rejects <n>', 'stop with exit code 1 once more than n documents are rejected', nonNegativeInt)
    .option('--memory-budget <mb>', `between batches, give garbage back to the system once the resident memory is over this many MB (0: leave it to Node)`, nonNegativeInt, DEFAULT_MEMORY_BUDGET_MB)
    .option('--skip-missing-collections', 'a collection (configured or named) that the MongoDB database does not have is skipped with a warning (default: exit 3 before anything is written; MongoDB creates a collection only with its first document)')
    .option('--lock-timeout <duration>', 'how long a write waits for a lock an application transaction holds before the run stops with exit 7, naming the blocker (default 30s; 0: no limit)', lockTimeoutArg)
    .addOption(new Option('--partition-size <n>', 'documents per parallel _id range').argParser(positiveInt('--partition-size', 100_000_000)).default(500_000).hideHelp())
    .addHelpText(
      'after',
      `
Examples:
  $ hybrid-migrate migrate                      every collection, parents first
  $ hybrid-migrate migrate orders transactions  just these (their parents must already be migrated)
  $ hybrid-migrate migrate --dry-run --json     what would be written, rejected and coerced
  $ hybrid-migrate migrate orders --restart     redo orders after a mapping change
  $ hybrid-migrate migrate --incremental --json every 10 minutes from cron: what changed since

Cron (a second run while one is still going exits 5 at once; a run with nothing new writes nothing):
  */10 * * * *  cd /srv/shop && hybrid-migrate migrate --incremental --max-duration 9m --json >> /var/log/hybrid-migrate.jsonl
  17 3 * * *    cd /srv/shop && hybrid-migrate migrate --incremental --detect-deletes --json >> /var/log/hybrid-migrate.jsonl
  47 3 * * *    cd /srv/shop && hybrid-migrate migrate --incremental --detect-changes --json >> /var/log/hybrid-migrate.jsonl`,
    )
    .action((collections: string[], flags: MigrateFlags) => migrateAction(rt, collections, flags));
}

/** Flags that would do nothing, or contradict each other, are refused before anything is read (exit 2). */
function checkMigrateFlags(flags: MigrateFlags): void {
  if (flags.detectDeletes && !flags.incremental) throw new UsageError('--detect-deletes works with --incremental.');
  if (flags.detectChanges && !flags.incremental) throw new UsageError('--detect-changes works with --incremental: it is the incremental sync\'s pass for changes no updatedAt shows.');
  if (flags.detectChanges && flags.dryRun) throw new UsageError('--detect-changes cannot be combined with --dry-run: the pass writes what changed (run "plan" to see which collections need it).');
  if (flags.overlap !== undefined && !flags.incremental) throw new UsageError('--overlap works with --incremental: it is how far back an incremental sync reads changed documents again.');
  if (flags.report && !flags.dryRun) throw new UsageError('--report works with --dry-run (after a migration, "verify" writes the report).');
  if (flags.incremental && flags.restart) throw new UsageError('--incremental and --restart cannot be combined: restart first, then sync.');
}

/** What one migrate command did: the run, and the change-detecting pass when asked for. */
interface MigrateOutcome {
  result: MigrateResult;
  changes?: ChangeDetectionResult;
}

async function migrateAction(rt: CommandRuntime, collections: string[], flags: MigrateFlags): Promise<void> {
  checkMigrateFlags(flags);
  const global = rt.global();
  // Cron: without a terminal, only the summary (stdout) and warnings (stderr) unless --verbose.
  if (flags.incremental && !rt.isTTY && !global.verbose) rt.logger.level = 'warn';
  const setup = await loadSetup(global, collections);
  const concurrency = flags.concurrency ?? setup.mapping.concurrency;
  const plan = flags.plan ? await readPlanFile(flags.plan) : await loadLatestPlan(planDirectory(setup.loaded.dir));
  if (plan === undefined) rt.logger.debug('no plan file (run "hybrid-migrate plan"): source drift is not checked');
  const conns = await connect(rt.env, { ...global, command: 'migrate', poolSize: concurrency + 3, lockTimeoutMs: lockTimeoutOf(flags.lockTimeout, setup) });
  const progress = createProgress({ tty: rt.isTTY, logger: rt.logger, quiet: Boolean(global.json) });
  // --max-duration is a hard deadline, waits for locks included (2 s after it, a blocked batch is canceled).
  const stopDeadline = flags.maxDuration !== undefined ? cancelLockWaitsAfter(flags.maxDuration) : () => undefined;
  let outcome: MigrateOutcome;
  try {
    rt.logger.debug({ source: conns.mongo.serverVersion, target: conns.pg.display, collections: setup.collections }, 'connected');
    // The source database named and existing, and each collection in it; the target's tables as the schema says.
    // Both checks are read-only and independent: run side by side (a locked collection is reported sooner).
    const [sourceChecked, targetChecked] = await Promise.allSettled([presentCollections(rt, conns, setup, flags), preflight(conns.pg, setup)]);
    if (sourceChecked.status === 'rejected') throw sourceChecked.reason;
    if (targetChecked.status === 'rejected') throw targetChecked.reason;
    setup.collections = sourceChecked.value;
    // A collection before those it refers to: migrate refuses it where a reference would reject
    // every document (see refuseUnmigratedReferences); the rest, and a dry run's (a prediction
    // as if loaded in order) or --incremental's (cron is not stopped by it), are warnings.
    const refusing = !flags.dryRun && !flags.incremental;
    for (const r of await referencesToUnmigrated(setup.mapping, setup.collections, conns.pg.pool, conns.mongo.db)) {
      // (A collection without documents is said once by hand, not by every cron run.)
      if (r.empty && flags.incremental) continue;
      if (!(refusing && r.rejects && !r.empty)) rt.logger.warn({ code: 'HM_REFERENCED_NOT_MIGRATED', collection: r.collection, references: r.target }, unmigratedReferenceLine(r));
    }
    outcome = await runMigration(rt, conns, setup, flags, { plan, progress, concurrency });
  } finally {
    stopDeadline();
    progress.stop();
    await conns.close();
  }
  await reportMigration(rt, setup, flags, outcome);
}

/**
 * The collections to migrate that MongoDB has: never "migrated 0" and checkpointed done. One
 * the database lacks (configured or named) is exit 3 before anything is written, unless
 * --skip-missing-collections (a warning each); none at all is always exit 3 (a wrong database).
 */
async function presentCollections(rt: CommandRuntime, conns: Connections, setup: Setup, flags: MigrateFlags): Promise<string[]> {
  const source = await checkSourceCollections(conns.mongo.db, { uri: rt.env.MONGO_URI ?? '', dbName: rt.global().mongoDb, collections: setup.collections });
  if (source.missing.length === 0) return source.present;
  const where = `MongoDB database "${conns.mongo.db.databaseName}"`;
  if (!flags.skipMissingCollections || source.present.length === 0) {
    throw new ConfigError(
      source.missing.map((c) => ({ path: `collections.${c}`, message: `collection "${c}" does not exist in ${where}` })),
      {
        hint: source.present.length === 0
          ? `None of the collections exist in ${where}: check MONGO_URI's database name (or --mongo-db). Nothing was written.`
          : 'Fix the name (or remove the entry from hybrid-migrate.config.ts), or pass --skip-missing-collections to migrate the others (MongoDB creates a collection only with its first document); nothing was written.',
      },
    );
  }
  for (const c of source.missing) rt.logger.warn({ collection: c }, `collection "${c}" does not exist in ${where}: skipped (--skip-missing-collections), nothing recorded for it`);
  return source.present;
}

async function runMigration(
  rt: CommandRuntime,
  conns: Connections,
  setup: Setup,
  flags: MigrateFlags,
  ctx: { plan: Awaited<ReturnType<typeof loadLatestPlan>>; progress: ReturnType<typeof createProgress>; concurrency: number },
): Promise<MigrateOutcome> {
  const startedAt = Date.now();
  const deadline = { maxDurationMs: flags.maxDuration };
  const result = await explainingTimeouts(conns.pg, setup, () =>
    migrate(
      { db: conns.mongo.db, pool: conns.pg.pool, mapping: setup.mapping, schema: setup.schema, plan: ctx.plan, events: ctx.progress },
      {
        collections: setup.collections,
        dryRun: Boolean(flags.dryRun),
        acceptSource: Boolean(flags.acceptSource),
        refuseUnmigratedReferences: !flags.dryRun && !flags.incremental,
        restart: Boolean(flags.restart),
        incremental: Boolean(flags.incremental),
        detectDeletes: Boolean(flags.detectDeletes),
        overlapMs: flags.overlap,
        maxDurationMs: flags.maxDuration,
        batchSize: flags.batchSize,
        concurrency: ctx.concurrency,
        maxRejects: flags.maxRejects,
        memoryBudgetBytes: flags.memoryBudget * 1024 * 1024,
        partitionSize: flags.partitionSize,
        maxRanges: flags.ranges,
        signal: rt.signal,
      },
    ),
    deadline,
  );
  let changes: ChangeDetectionResult | undefined;
  if (flags.detectChanges && canDetectChanges(result)) {
    changes = await explainingTimeouts(conns.pg, setup, () =>
      runChangeDetection(
        { db: conns.mongo.db, pool: conns.pg.pool, mapping: setup.mapping },
        { collections: setup.collections, batchSize: flags.batchSize, signal: remainingSignal(rt.signal, flags.maxDuration, startedAt), onBatch: ctx.progress.batchDone },
      ),
      deadline,
    );
  }
  if (!result.dryRun) {
    // The customer's watch list (requests, response time, errors per database), kept with the run for status.
    await recordRunMetrics(conns.pg.pool, result.runId, { mongodb: conns.mongo.metrics.snapshot(), postgresql: conns.pg.metrics.snapshot() }).catch((e: unknown) =>
      rt.logger.warn({ err: rt.scrub(String(e)) }, 'could not store the run metrics'),
    );
  }
  return { result, changes };
}

/** Warnings, the dry run's report, the summary (or --json), and the exit code. */
async function reportMigration(rt: CommandRuntime, setup: Setup, flags: MigrateFlags, { result, changes }: MigrateOutcome): Promise<void> {
  for (const c of result.collections) for (const w of c.driftWarnings) rt.logger.warn({ collection: c.name }, `source drifted since the plan: ${w}`);
  for (const c of result.collections) if (c.futureUpdatedAt.count > 0) rt.logger.warn({ collection: c.name, ...c.futureUpdatedAt }, futureLine(c));
  if (flags.report && result.dryRun) {
    const written = await writeDryRunReport(result, reportDirFor(setup.loaded.dir, typeof flags.report === 'string' ? flags.report : undefined));
    rt.stderr(`report: ${written.html}\n`);
  }
  rt.stdout(rt.global().json ? `${JSON.stringify({ ...toJson(result), ...(changes ? { changeDetection: changes } : {}) }, null, 2)}\n` : renderSummary(result) + (changes ? renderChangeDetection(changes) : ''));
  if (result.maxRejectsExceeded) {
    rt.stderr(`error: more than ${flags.maxRejects ?? setup.mapping.maxRejects} documents rejected; stopped. See hybrid_migrate.rejects.\n`);
    throw new ExitWith(ExitCode.DataIssues);
  }
  if (result.interrupted || (changes?.interrupted && rt.signal.aborted)) throw new ExitWith(ExitCode.Interrupted);
}

/** The change-detecting pass follows a sync that ran to its end (not a dry run, not stopped by a limit or the operator). */
function canDetectChanges(r: MigrateResult): boolean {
  return !r.dryRun && !r.interrupted && !r.stoppedByMaxDuration && !r.maxRejectsExceeded;
}

/** The operator's signal, also aborted once --max-duration (counted from the command's start) has passed. */
function remainingSignal(signal: AbortSignal, maxDurationMs: number | undefined, startedAt: number): AbortSignal {
  if (maxDurationMs === undefined) return signal;
  return AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, maxDurationMs - (Date.now() - startedAt)))]);
}

function renderChangeDetection(r: ChangeDetectionResult): string {
  const rows = r.collections.map((c) => [
    c.name,
    c.status === 'checked' ? `checked${c.resumed ? ' (resumed)' : ''}` : 'interrupted',
    formatInt(c.read),
    formatInt(c.written),
    formatInt(c.unchanged),
    formatInt(c.skippedModified),
    formatInt(c.rejected),
    formatDuration(c.durationMs),
    rate(c.read, c.durationMs),
  ]);
  const note = r.interrupted ? ' — interrupted: the next run with --detect-changes resumes the pass' : '';
  const out = ['', `Change detection (one _id pass, fingerprints compared with those recorded at migration)${note}`, '', table(['collection', 'pass', 'read', 'written', 'unchanged', 'kept (changed by the application)', 'rejected', 'duration', 'docs/s'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'])];
  const checked = r.collections.filter((c) => c.checkedUpTo !== null);
  if (checked.length > 0) out.push('', ...checked.map((c) => `  ${c.name}: every change made in MongoDB before ${c.checkedUpTo} is synced`));
  if (r.collections.some((c) => c.skippedModified > 0)) out.push('Rows kept for the application are listed in hybrid_migrate.conflicts.');
  return `${out.join('\n')}\n`;
}

/** The --json contract: `{runId, collections: [{name, read, migrated, rejected, durationMs}]}` (extended, never renamed). */
function toJson(r: MigrateResult) {
  return {
    runId: r.runId,
    dryRun: r.dryRun,
    incremental: r.incremental,
    wrote: r.wrote,
    interrupted: r.interrupted,
    stoppedByMaxDuration: r.stoppedByMaxDuration,
    maxRejectsExceeded: r.maxRejectsExceeded,
    deferredResolved: r.deferredResolved,
    collections: r.collections.map((c) => ({
      name: c.name,
      read: c.read,
      migrated: c.migrated,
      rejected: c.rejected,
      durationMs: c.durationMs,
      model: c.model,
      status: c.status,
      skippedModified: c.skippedModified,
      overwritten: c.overwritten,
      unchanged: c.unchanged,
      deletedInSource: c.deletedInSource,
      deleteBlocked: c.deleteBlocked,
      orphans: c.orphans,
      coercions: c.coercions,
      rejectsByField: c.rejectsByField,
      rejectSamples: c.rejectSamples,
      driftWarnings: c.driftWarnings,
      futureUpdatedAt: c.futureUpdatedAt,
      timings: c.timings,
    })),
  };
}

function busyMs(c: MigrateResult['collections'][number]): number {
  return c.timings.sourceWaitMs + c.timings.convertMs + c.timings.writeMs;
}

function renderSummary(r: MigrateResult): string {
  const rows = r.collections.map((c) => [
    c.name,
    c.status,
    formatInt(c.read),
    formatInt(c.migrated),
    formatInt(c.rejected),
    formatInt(Object.values(c.orphans).reduce((a, b) => a + b, 0)),
    formatDuration(c.durationMs),
    rate(c.read, c.durationMs),
  ]);
  const title = r.dryRun ? 'Dry run (nothing written)' : r.incremental ? 'Incremental sync' : 'Migration';
  const note = r.interrupted ? ' — interrupted, rerun to resume' : r.stoppedByMaxDuration ? ' — stopped at --max-duration, the next run continues' : !r.wrote && !r.dryRun ? ' — nothing to do, nothing written' : '';
  const out = [`${title} ${r.runId}${note}`, '', table(['collection', 'status', 'read', r.dryRun ? 'would write' : 'written', 'rejected', 'orphans', 'duration', 'docs/s'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'])];
  const timed = r.collections.filter((c) => busyMs(c) >= 1000);
  if (timed.length > 0) {
    out.push('', 'Where the time went (summed over workers; the largest share is what limits the speed):');
    for (const c of timed) {
      const pct = (ms: number) => `${Math.round((100 * ms) / busyMs(c))}%`;
      out.push(`  ${c.name}: waiting for MongoDB ${pct(c.timings.sourceWaitMs)}, converting ${pct(c.timings.convertMs)}, writing to PostgreSQL ${pct(c.timings.writeMs)}`);
    }
  }
  const sync = r.collections.filter((c) => c.unchanged + c.skippedModified + c.overwritten + c.deletedInSource + c.deleteBlocked > 0);
  if (sync.length > 0) {
    out.push('', table(['collection', 'unchanged', 'kept (changed by the application)', 'overwritten (onConflict)', 'deleted in MongoDB', 'kept although deleted'], sync.map((c) => [c.name, formatInt(c.unchanged), formatInt(c.skippedModified), formatInt(c.overwritten), formatInt(c.deletedInSource), formatInt(c.deleteBlocked)]), ['l', 'r', 'r', 'r', 'r', 'r']));
    if (sync.some((c) => c.skippedModified + c.deleteBlocked > 0)) out.push('Rows kept for the application are listed in hybrid_migrate.conflicts.');
  }
  const orphans = r.collections.flatMap((c) => Object.entries(c.orphans));
  if (orphans.length > 0) out.push('', 'References to missing documents (orphans):', ...orphans.map(([field, n]) => `  ${field}: ${formatInt(n)}`));
  const coercions = r.collections.flatMap((c) => Object.entries(c.coercions).map(([k, n]) => [`${c.name}.${k}`, n] as const));
  if (coercions.length > 0) out.push('', 'Values converted from another representation:', ...coercions.map(([k, n]) => `  ${k}: ${formatInt(n)}`));
  const drift = r.collections.flatMap((c) => c.driftWarnings);
  if (drift.length > 0) out.push('', 'Source drifted since the plan (run "hybrid-migrate plan" again):', ...drift.map((w) => `  ${w}`));
  const future = r.collections.filter((c) => c.futureUpdatedAt.count > 0).map((c) => `  ${futureLine(c)}`);
  if (future.length > 0) out.push('', 'Warning: updatedAt in the future (synced when they change; the cursor stays at the run\'s start):', ...future);
  const samples = r.collections.flatMap((c) => c.rejectSamples.slice(0, 5).map((s) => `  ${c.name} ${s.sourceKey}: ${s.reason}`));
  if (samples.length > 0) out.push('', 'Rejected (first ones; all are in hybrid_migrate.rejects):', ...samples);
  return `${out.join('\n')}\n`;
}

function futureLine(c: MigrateResult['collections'][number]): string {
  return `${c.name}: ${formatInt(c.futureUpdatedAt.count)} document(s) with updatedAt after this run's start, e.g. ${c.futureUpdatedAt.sampleIds.join(', ')}`;
}
