/**
 * `hybrid-migrate status [collections...]` — both databases and the migration's progress per
 * collection. Read-only. A database that cannot be reached is reported (with what the other
 * one says) and the command ends with exit code 4.
 */
import type { Command } from 'commander';
import { collectStatus, type CollectionStatus, type DatabaseStatus, type StatusReport } from '../../use-cases/status/status.js';
import { probeDatabases } from '../../use-cases/status/status-probe.js';
import { ExitCode, UsageError } from '../../core/errors.js';
import type { DatabaseMetrics } from '../../core/metrics.js';
import { loadSetup, lockTimeoutArg, lockTimeoutOf, requireEnv } from '../context.js';
import { ExitWith, type CommandRuntime } from '../program.js';
import { formatInt, table } from '../render.js';
import { positiveInt } from './migrate.js';

interface StatusFlags {
  exact?: boolean;
  exactLimit: number;
  lockTimeout?: number;
}

export function registerStatus(program: Command, rt: CommandRuntime): void {
  program
    .command('status')
    .summary("both databases and the migration's progress per collection")
    .description(
      'Shows both connections (state, server version, round-trip latency, data volume, the request metrics of the ' +
        'last run), then per collection: documents in MongoDB, rows in PostgreSQL written by the migration and by the ' +
        'application, migrated / pending / rejected, the last run and verification, and whether the collection is ready ' +
        'for Phase 3 (fully migrated, verified clean, incremental sync caught up). Writes nothing. Exit 4 when a database ' +
        'cannot be reached (what the other one says is still shown).',
    )
    .argument('[collections...]', 'collections to show (default: all configured)')
    .option('--exact', 'compare every _id with the registry to count pending documents exactly, whatever the size')
    .option('--exact-limit <n>', 'collections up to n documents are compared exactly anyway', positiveInt('--exact-limit', 1_000_000_000), 50_000)
    .option('--lock-timeout <duration>', 'how long a read waits for a lock another session holds on a table (an ALTER TABLE of the application) before that fact is shown as unknown (default 30s, or lockTimeout in the configuration; 0: no limit)', lockTimeoutArg)
    .action(async (collections: string[], flags: StatusFlags, cmd: Command) => {
      if (flags.exact && cmd.getOptionValueSource('exactLimit') === 'cli') throw new UsageError('--exact-limit works without --exact: with --exact every collection is compared exactly, whatever its size.');
      const global = rt.global();
      const setup = await loadSetup(global, collections);
      const { mongoUri, databaseUrl } = requireEnv(rt.env);
      const probe = await probeDatabases({ mongoUri, databaseUrl, mongoDb: global.mongoDb, lockTimeoutMs: lockTimeoutOf(flags.lockTimeout, setup) });
      let report: StatusReport;
      try {
        report = await collectStatus(probe, setup.mapping, {
          collections: setup.collections,
          exact: Boolean(flags.exact),
          exactLimit: flags.exactLimit,
          signal: rt.signal,
          scrub: rt.scrub,
        });
      } finally {
        await Promise.allSettled([probe.mongo?.close(), probe.pg?.close()]);
      }
      rt.stdout(rt.scrub(global.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report)));
      if (report.health.status !== 'ok') {
        const down = [report.databases.mongodb.state !== 'connected' ? 'MongoDB' : null, report.databases.postgresql.state !== 'connected' ? 'PostgreSQL' : null].filter(Boolean);
        rt.stderr(rt.scrub(`error: ${down.join(' and ')} could not be reached; the report shows what the other database says.\n`));
        throw new ExitWith(ExitCode.Connection);
      }
    });
}

function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

const num = (n: number | null | undefined) => (n === null || n === undefined ? '?' : formatInt(n));
const ms = (n: number | null | undefined) => (n === null || n === undefined ? '–' : `${n < 10 ? n.toFixed(2) : Math.round(n)} ms`);

function databaseLine(name: string, d: DatabaseStatus): string[] {
  const volume = d.volume ? Object.entries(d.volume).map(([k, v]) => `${k.replace(/Bytes$/, '')} ${k.endsWith('Bytes') ? bytes(v) : v}`).join(', ') : '';
  return [name, d.state, d.serverVersion ?? '–', ms(d.latencyMs), d.target, d.error ?? volume];
}

function metricsLine(name: string, m: DatabaseMetrics | null): string[] {
  if (!m) return [name, '–', '–', '–', '–', '–', '–', '–'];
  return [name, formatInt(m.requests), formatInt(m.errors), `${(m.errorRate * 100).toFixed(2)} %`, ms(m.meanMs), ms(m.p95Ms), ms(m.maxMs), formatInt(m.items)];
}

function readyText(c: CollectionStatus): string {
  return c.readyForPhase3.ready === true ? 'ready' : c.readyForPhase3.ready === false ? 'not ready' : 'unknown';
}

function verifiedText(c: CollectionStatus): string {
  const v = c.lastVerification;
  if (!v) return 'never verified';
  return `${v.outcome}${v.at ? ` ${v.at.slice(0, 16)}` : ''}`;
}

export function renderStatus(r: StatusReport): string {
  const out = [
    `Health: ${r.health.status} (mongodb ${r.health.databases.mongodb}, postgresql ${r.health.databases.postgresql}) at ${r.health.timestamp}`,
    '',
    table(['database', 'state', 'server', 'latency', 'target', 'volume / error'], [databaseLine('MongoDB', r.databases.mongodb), databaseLine('PostgreSQL', r.databases.postgresql)]),
  ];
  if (r.metricsRun) {
    out.push(
      '',
      `Requests of the last run that recorded metrics (${r.metricsRun.command} ${r.metricsRun.runId}, ${r.metricsRun.startedAt}):`,
      table(
        ['database', 'requests', 'errors', 'error rate', 'mean', 'p95', 'max', 'docs/rows'],
        [metricsLine('MongoDB', r.databases.mongodb.lastRunMetrics), metricsLine('PostgreSQL', r.databases.postgresql.lastRunMetrics)],
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
  } else if (r.stateSchema !== null) {
    out.push('', 'No run has recorded request metrics yet.');
  }
  if (r.stateSchema === false) out.push('', 'Nothing migrated yet (no hybrid_migrate schema in the target database).');
  out.push(
    '',
    table(
      ['collection', 'documents', 'migrated', 'pending', 'rejected', 'app rows', 'rows', 'MongoDB', 'PostgreSQL', 'last run', 'verification', 'Phase 3'],
      r.collections.map((c) => [
        c.name,
        num(c.documents),
        num(c.migrated),
        c.pending === null ? '?' : `${c.pendingExact ? '' : '~'}${formatInt(c.pending)}`,
        num(c.rejected),
        num(c.rows?.application),
        num(c.rows?.total),
        bytes(c.volume.mongodbBytes),
        bytes(c.volume.postgresqlBytes),
        c.lastRun ? `${c.lastRun.status} ${c.lastRun.startedAt.slice(0, 16)}` : 'never',
        verifiedText(c),
        readyText(c),
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l', 'l'],
    ),
  );
  if (r.collections.some((c) => !c.pendingExact && c.pending !== null)) out.push('~ estimated from counts (status --exact compares every _id with the registry)');
  for (const c of r.collections) {
    const lines = [...c.readyForPhase3.blockers.map((b) => `  - ${b}`), ...c.readyForPhase3.unknown.map((u) => `  ? ${u}`), ...c.problems.map((p) => `  ! ${p}`)];
    if (c.leftToApplication) lines.push(`  · ${formatInt(c.leftToApplication)} document(s) left to the application, which had written their row itself (see hybrid_migrate.conflicts)`);
    if (c.deletedInSource) lines.push(`  - ${formatInt(c.deletedInSource)} migrated document(s) no longer in MongoDB`);
    lines.push(...applicationDeletesLines(c), ...changeDetectionLines(c));
    const f = c.futureUpdatedAt;
    if (f && f.count > 0) lines.push(`  ! ${formatInt(f.count)} document(s) with "${c.changeDetection?.updatedAtField ?? 'updatedAt'}" in the future (a wrong clock or bad data), e.g. ${f.sampleIds.join(', ')}: every incremental run reads them again; the cursor never moves past a run's start`);
    if (lines.length > 0) out.push('', `${c.name}:`, ...lines);
  }
  return `${out.join('\n')}\n`;
}

/** Rows the application deleted since migration: kept deleted (never brought back), listed with the table and row. */
function applicationDeletesLines(c: CollectionStatus): string[] {
  const d = c.deletedByApplication;
  if (!d || d.count === 0) return [];
  return [
    `  - ${formatInt(d.count)} row(s) the migration wrote were deleted by the application since (never brought back), e.g.:`,
    ...d.samples.map((s) => `      ${s.table} ${s.row} (document ${s.sourceKey})`),
  ];
}

/** The change-detecting passes, for collections with documents whose changes no updatedAt shows. */
function changeDetectionLines(c: CollectionStatus): string[] {
  const cd = c.changeDetection;
  if (!cd || (!cd.withoutUpdatedAt && !cd.checkedUpTo && !cd.passUnderWaySince)) return [];
  const out: string[] = [];
  if (cd.withoutUpdatedAt) out.push(`  · ${formatInt(cd.withoutUpdatedAt)} document(s) without a date in "${cd.updatedAtField}": their changes are found only by migrate --incremental --detect-changes`);
  if (cd.checkedUpTo) out.push(`  · last change-detecting pass: every change before ${cd.checkedUpTo} synced (completed ${cd.passCompletedAt ?? '?'})`);
  if (cd.passUnderWaySince) out.push(`  · a change-detecting pass started ${cd.passUnderWaySince} is not finished: the next migrate --incremental --detect-changes resumes it`);
  return out;
}
