/** `hybrid-migrate migrate [collections...]` */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { migrate, type MigrateResult } from '../../app/migrate.js';
import { ExitCode } from '../../core/errors.js';
import { connect, loadSetup } from '../context.js';
import { ExitWith, type CommandRuntime } from '../program.js';
import { createProgress } from '../progress.js';
import { formatDuration, formatInt, rate, table } from '../render.js';

export function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}.`);
    }
    return n;
  };
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be an integer ≥ 0.');
  return n;
}

interface MigrateFlags {
  dryRun?: boolean;
  restart?: boolean;
  batchSize?: number;
  concurrency?: number;
  maxRejects?: number;
  partitionSize: number;
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
    .option('--batch-size <n>', 'documents per batch and transaction (default 5000)', positiveInt('--batch-size', 100_000))
    .option('--concurrency <n>', 'collections and _id ranges worked on in parallel (default 4)', positiveInt('--concurrency', 64))
    .option('--max-rejects <n>', 'stop with exit code 1 once more than n documents are rejected', nonNegativeInt)
    .addOption(new Option('--partition-size <n>', 'documents per parallel _id range').argParser(positiveInt('--partition-size', 100_000_000)).default(500_000).hideHelp())
    .addHelpText(
      'after',
      `
Examples:
  $ hybrid-migrate migrate                      every collection, parents first
  $ hybrid-migrate migrate orders transactions  just these (their parents must already be migrated)
  $ hybrid-migrate migrate --dry-run --json     what would be written, rejected and coerced
  $ hybrid-migrate migrate orders --restart     redo orders after a mapping change`,
    )
    .action(async (collections: string[], flags: MigrateFlags) => {
      const global = rt.global();
      const setup = await loadSetup(global, collections);
      const concurrency = flags.concurrency ?? setup.mapping.concurrency;
      const conns = await connect(rt.env, { ...global, command: 'migrate', poolSize: concurrency + 3 });
      const progress = createProgress({ tty: rt.isTTY, logger: rt.logger, quiet: Boolean(global.json) });
      let result: MigrateResult;
      try {
        rt.logger.debug({ source: conns.mongo.serverVersion, target: conns.pg.display, collections: setup.collections }, 'connected');
        result = await migrate(
          { db: conns.mongo.db, pool: conns.pg.pool, mapping: setup.mapping, events: progress },
          {
            collections: setup.collections,
            dryRun: Boolean(flags.dryRun),
            restart: Boolean(flags.restart),
            batchSize: flags.batchSize,
            concurrency,
            maxRejects: flags.maxRejects,
            partitionSize: flags.partitionSize,
            signal: rt.signal,
          },
        );
      } finally {
        progress.stop();
        await conns.close();
      }
      rt.stdout(global.json ? `${JSON.stringify(toJson(result), null, 2)}\n` : renderSummary(result));
      if (result.maxRejectsExceeded) {
        rt.stderr(`error: more than ${flags.maxRejects ?? setup.mapping.maxRejects} documents rejected; stopped. See hybrid_migrate.rejects.\n`);
        throw new ExitWith(ExitCode.DataIssues);
      }
      if (result.interrupted) throw new ExitWith(ExitCode.Interrupted);
    });
}

/** The --json contract: `{runId, collections: [{name, read, migrated, rejected, durationMs}]}` (extended, never renamed). */
function toJson(r: MigrateResult) {
  return {
    runId: r.runId,
    dryRun: r.dryRun,
    interrupted: r.interrupted,
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
      orphans: c.orphans,
      coercions: c.coercions,
      rejectSamples: c.rejectSamples,
    })),
  };
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
  const out = [
    `${r.dryRun ? 'Dry run (nothing written)' : 'Migration'} ${r.runId}${r.interrupted ? ' — interrupted, rerun to resume' : ''}`,
    '',
    table(['collection', 'status', 'read', r.dryRun ? 'would write' : 'written', 'rejected', 'orphans', 'duration', 'docs/s'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r']),
  ];
  const orphans = r.collections.flatMap((c) => Object.entries(c.orphans));
  if (orphans.length > 0) out.push('', 'References to missing documents (orphans):', ...orphans.map(([field, n]) => `  ${field}: ${formatInt(n)}`));
  const coercions = r.collections.flatMap((c) => Object.entries(c.coercions).map(([k, n]) => [`${c.name}.${k}`, n] as const));
  if (coercions.length > 0) out.push('', 'Values converted from another representation:', ...coercions.map(([k, n]) => `  ${k}: ${formatInt(n)}`));
  const samples = r.collections.flatMap((c) => c.rejectSamples.slice(0, 5).map((s) => `  ${c.name} ${s.sourceKey}: ${s.reason}`));
  if (samples.length > 0) out.push('', 'Rejected (first ones; all are in hybrid_migrate.rejects):', ...samples);
  return `${out.join('\n')}\n`;
}
