/** `hybrid-migrate verify [collections...]` */
import { randomUUID } from 'node:crypto';
import { type Command, Option } from 'commander';
import { migrate } from '../../use-cases/migrate/migrate.js';
import { verify } from '../../use-cases/verify/verify.js';
import type { VerifyResult } from '../../use-cases/verify/verify-result.js';
import { collectionAgrees } from '../../use-cases/verify/verify-result.js';
import { recordVerification } from '../../use-cases/verify/record-verification.js';
import { ExitCode, UsageError } from '../../core/errors.js';
import { reportDirFor, writeDryRunReport, writeVerifyReport, type WrittenReport } from '../../report/write-report.js';
import { connect, explainingTimeouts, loadSetup, lockTimeoutArg, lockTimeoutOf, preflight, type Connections, type Setup } from '../context.js';
import { checkSourceCollections } from '../../source/mongo-source.js';
import { ExitWith, type CommandRuntime } from '../program.js';
import { formatDuration, formatInt, table } from '../render.js';
import { nonNegativeInt, positiveInt } from './migrate.js';
import { DEFAULT_VERIFY_MEMORY_BUDGET_MB } from '../../runtime/memory-budget.js';
import { dryRunJson, renderDryRunSummary } from '../../report/dry-run-summary.js';
import { defaultRangeCount } from '../../source/partitions.js';

interface VerifyFlags {
  sample?: number;
  concurrency?: number;
  batchSize: number;
  out?: string;
  report: boolean;
  maxSamples: number;
  failOnRejects?: boolean;
  dryRun?: boolean;
  partitionSize: number;
  lockTimeout?: number;
  memoryBudget: number;
}

export function registerVerify(program: Command, rt: CommandRuntime): void {
  program
    .command('verify')
    .summary('prove MongoDB and PostgreSQL agree, document by document, and write a report')
    .description(
      'Converts every source document again with the migration\'s own rules and compares it, field by field and ' +
        'child row by child row, with what PostgreSQL holds (exact decimals, millisecond instants, canonical JSON). ' +
        'Counts per collection: source = migrated + rejected + not yet migrated; rows whose document is gone or ' +
        'that copy a migrated row are extra. Rows the application wrote itself are never counted nor touched. ' +
        'Writes a Markdown and an HTML report. Exit code 0 when everything agrees, 1 when anything differs.',
    )
    .argument('[collections...]', 'collections to verify (default: all configured)')
    .option('--sample <n>', 'compare a random sample of n migrated documents per collection (counts stay exact)', positiveInt('--sample', 100_000_000))
    .option('--concurrency <n>', 'batches compared in parallel (default: the configuration\'s, 4)', positiveInt('--concurrency', 64))
    .option('--batch-size <n>', 'source documents per batch', positiveInt('--batch-size', 100_000), 1000)
    .option('--out <dir>', 'report directory (default: migrations-state/reports/ next to the configuration)')
    .option('--no-report', 'write no report file')
    .option('--max-samples <n>', 'differences listed per collection (all are counted)', positiveInt('--max-samples', 100_000), 100)
    .option('--fail-on-rejects', 'rejected documents count as differences (exit 1)')
    .option('--memory-budget <mb>', `between batches, give garbage back to the system once the resident memory is over this many MB (0: leave it to Node)`, nonNegativeInt, DEFAULT_VERIFY_MEMORY_BUDGET_MB)
    .option('--dry-run', 'verify a migration that has not happened: convert every document, write nothing, report what would be written, rejected and coerced')
    .addOption(new Option('--partition-size <n>', 'documents per parallel _id range').argParser(positiveInt('--partition-size', 100_000_000)).default(100_000).hideHelp())
    .addHelpText(
      'after',
      `
Examples:
  $ hybrid-migrate verify                       every collection, every document
  $ hybrid-migrate verify orders --sample 1000  counts, and 1000 orders compared field by field
  $ hybrid-migrate verify --json                {"ok", "collections": [{"name", "source", "target", "missing", "extra", "mismatched"}]}
  $ hybrid-migrate verify --dry-run             what a migration would write, reject and coerce`,
    )
    .option('--lock-timeout <duration>', 'how long a statement waits for a lock another session holds before verify stops with exit 7, naming the blocker (default 30s; 0: no limit)', lockTimeoutArg)
    .action((collections: string[], flags: VerifyFlags, cmd: Command) => verifyAction(rt, collections, flags, cmd));
}

/** Flags that only shape a comparison are refused with --dry-run, and --out with --no-report (exit 2). */
function checkFlags(flags: VerifyFlags, cmd: Command): void {
  if (flags.out !== undefined && !flags.report) throw new UsageError('--out names the report directory, and --no-report writes no report: give one of them.');
  if (!flags.dryRun) return;
  // A dry run converts every document and reports what would be written.
  if (flags.sample !== undefined) throw new UsageError('--sample works without --dry-run: a dry run converts every document.');
  if (cmd.getOptionValueSource('maxSamples') === 'cli') throw new UsageError('--max-samples works without --dry-run: it limits the differences listed by a comparison.');
  if (flags.failOnRejects) throw new UsageError('--fail-on-rejects works without --dry-run: a dry run already exits 1 when documents would be rejected.');
}

async function verifyAction(rt: CommandRuntime, collections: string[], flags: VerifyFlags, cmd: Command): Promise<void> {
  checkFlags(flags, cmd);
  const global = rt.global();
  const setup = await loadSetup(global, collections);
  const concurrency = flags.concurrency ?? setup.mapping.concurrency;
  const reportDir = reportDirFor(setup.loaded.dir, flags.out);
  const conns = await connect(rt.env, { ...global, command: 'verify', poolSize: concurrency * 3 + 2, lockTimeoutMs: lockTimeoutOf(flags.lockTimeout, setup) });
  try {
    // The MongoDB database named and existing (a misspelled one would make every row "extra").
    await checkSourceCollections(conns.mongo.db, { uri: rt.env.MONGO_URI ?? '', dbName: global.mongoDb, collections: setup.collections });
    // Columns that differ from the schema would be compared as differences of every row: say what differs instead.
    await preflight(conns.pg, setup);
    const run = { rt, conns, setup, flags, concurrency, reportDir, json: Boolean(global.json) };
    await explainingTimeouts(conns.pg, setup, () => (flags.dryRun ? dryRun(run) : compare(run)), { doing: 'reading' });
  } finally {
    await conns.close();
  }
}

interface VerifyRun {
  rt: CommandRuntime;
  conns: Connections;
  setup: Setup;
  flags: VerifyFlags;
  concurrency: number;
  reportDir: string;
  json: boolean;
}

/** --dry-run: the migration's own pipeline, writing nothing; exit 1 when documents would be rejected. */
async function dryRun({ rt, conns, setup, flags, concurrency, reportDir, json }: VerifyRun): Promise<void> {
  const result = await migrate(
    { db: conns.mongo.db, pool: conns.pg.pool, mapping: setup.mapping },
    { collections: setup.collections, dryRun: true, restart: false, batchSize: flags.batchSize, concurrency, partitionSize: flags.partitionSize, maxRanges: defaultRangeCount(), signal: rt.signal },
  );
  const report = flags.report ? await writeDryRunReport(result, reportDir) : undefined;
  rt.stdout(json ? `${JSON.stringify(dryRunJson(result, report), null, 2)}\n` : renderDryRunSummary(result, report));
  if (result.interrupted) throw new ExitWith(ExitCode.Interrupted);
  if (result.collections.some((c) => c.rejected > 0)) throw new ExitWith(ExitCode.DataIssues);
}

/** The comparison: report, record for status, exit 1 on differences. */
async function compare({ rt, conns, setup, flags, concurrency, reportDir, json }: VerifyRun): Promise<void> {
  const result = await verify(
    {
      db: conns.mongo.db,
      pool: conns.pg.pool,
      mapping: setup.mapping,
      events: {
        collectionFinished: (c) => rt.logger.info({ collection: c.name, source: c.source, missing: c.missing, extra: c.extra, mismatched: c.mismatched, ms: c.durationMs }, 'verified'),
      },
    },
    {
      collections: setup.collections,
      sample: flags.sample,
      concurrency,
      batchSize: flags.batchSize,
      maxSamples: flags.maxSamples,
      failOnRejects: Boolean(flags.failOnRejects),
      memoryBudgetBytes: flags.memoryBudget * 1024 * 1024,
      partitionSize: flags.partitionSize,
      signal: rt.signal,
    },
  );
  const report = flags.report ? await writeVerifyReport(result, reportDir) : undefined;
  await recordVerification(conns.pg.pool, randomUUID(), result, report?.html ?? null);
  rt.stdout(json ? `${JSON.stringify(toJson(result, report), null, 2)}\n` : renderSummary(result, report));
  if (result.interrupted) throw new ExitWith(ExitCode.Interrupted);
  if (!result.ok) throw new ExitWith(ExitCode.DataIssues);
}

/** The --json contract: `{ok, collections: [{name, source, target, missing, extra, mismatched}]}` (extended, never renamed). */
function toJson(r: VerifyResult, report: WrittenReport | undefined) {
  return {
    ok: r.ok,
    dryRun: false,
    sample: r.sample,
    startedAt: r.startedAt,
    durationMs: r.durationMs,
    interrupted: r.interrupted,
    report: report ?? null,
    collections: r.collections.map((c) => ({
      name: c.name,
      source: c.source,
      target: c.target,
      missing: c.missing,
      extra: c.extra,
      mismatched: c.mismatched,
      changedByApplication: c.changedByApplication,
      deletedByApplication: c.deletedByApplication,
      applicationChanges: c.applicationChanges,
      model: c.model,
      table: c.table,
      migrated: c.migrated,
      rejected: c.rejected,
      notMigrated: c.notMigrated,
      checked: c.checked,
      uncheckedRegistry: c.uncheckedRegistry,
      keptDeletedInSource: c.keptDeletedInSource,
      fields: c.fields,
      mismatches: c.mismatches,
      missingRows: c.missingRows,
      extraRows: c.extraRows,
      rejectSamples: c.rejectSamples,
      durationMs: c.durationMs,
    })),
  };
}

function renderSummary(r: VerifyResult, report: WrittenReport | undefined): string {
  const rows = r.collections.map((c) => [
    c.name,
    formatInt(c.source),
    formatInt(c.target),
    formatInt(c.migrated),
    formatInt(c.rejected),
    formatInt(c.notMigrated),
    formatInt(c.missing),
    formatInt(c.extra),
    formatInt(c.mismatched),
    formatInt(c.checked),
    r.interrupted ? 'interrupted' : collectionAgrees(c, r.failOnRejects) ? 'ok' : 'DIFFERENCES',
  ]);
  const verdict = r.interrupted ? 'interrupted: the counts cover what was read' : r.ok ? 'MongoDB and PostgreSQL agree' : 'DIFFERENCES found';
  const out = [
    `Verification (${r.sample === null ? 'every document' : `sample of ${r.sample} per collection`}, ${formatDuration(r.durationMs)}): ${verdict}`,
    '',
    table(['collection', 'source', 'target', 'migrated', 'rejected', 'not migrated', 'missing', 'extra', 'mismatched', 'checked', 'status'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']),
  ];
  for (const c of r.collections) {
    const shown = c.mismatches.slice(0, 10).map((m) => `  ${m.sourceId} (${m.uuid}) ${m.field}: source ${show(m.source)}, target ${show(m.target)}`);
    if (shown.length > 0) out.push('', `${c.name}: ${formatInt(c.mismatched)} documents differ${c.mismatched > 0 && c.mismatches.length > 10 ? ' (first differences)' : ''}:`, ...shown);
    const missing = c.missingRows.slice(0, 5).map((m) => `  ${m.sourceId} ${m.uuid ?? ''} ${m.reason}`);
    if (missing.length > 0) out.push('', `${c.name}: ${formatInt(c.missing)} missing:`, ...missing);
    const app = c.applicationChanges.slice(0, 5).map((a) => `  ${a.sourceId} ${a.kind === 'deleted-by-application' ? 'deleted' : 'changed'}: ${a.table} ${a.row}`);
    if (app.length > 0) out.push('', `${c.name}: ${formatInt(c.changedByApplication)} changed and ${formatInt(c.deletedByApplication)} deleted by the application since migration (kept; not differences):`, ...app);
    const extra = c.extraRows.slice(0, 5).map((e) => `  ${e.uuid} ${e.sourceKey ?? ''} ${e.reason}`);
    if (extra.length > 0) out.push('', `${c.name}: ${formatInt(c.extra)} extra:`, ...extra);
    if (c.keptDeletedInSource > 0) out.push('', `${c.name}: ${formatInt(c.keptDeletedInSource)} row(s) kept although their documents were deleted in MongoDB (still referenced, or changed by the application; see hybrid_migrate.conflicts): not differences`);
    if (c.uncheckedRegistry > 0) out.push('', `${c.name}: ${formatInt(c.uncheckedRegistry)} registry entries have an _id no query can find again (see uncheckedRegistry): whether their documents were deleted in MongoDB is not checked`);
  }
  if (report) out.push('', `Report: ${report.html}`, `        ${report.markdown}`);
  return `${out.join('\n')}\n`;
}

function show(v: string | null): string {
  if (v === null) return 'NULL';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}…"` : s;
}
