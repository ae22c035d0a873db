/**
 * `hybrid-migrate plan [collections...]`: assesses the source against the Prisma schema
 * before anything is written — type histogram per field, where each model field comes from,
 * what migrate would reject, coerce, orphan or lose — and writes the plan file that migrate's
 * drift check reads. Writes nothing to either database.
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { buildPlan, type CollectionPlan, type PlanEvents, type PlanReport } from '../../use-cases/plan/plan.js';
import { planDirectory, writePlanFiles } from '../../use-cases/plan/plan-file.js';
import { ExitCode } from '../../core/errors.js';
import type { FieldPlan } from '../../core/plan-fields.js';
import { referencesToUnmigrated, unmigratedReferenceLine } from '../../use-cases/migrate/reference-order.js';
import { checkSourceCollections } from '../../source/mongo-source.js';
import { connect, loadSetup } from '../context.js';
import { ExitWith, type CommandRuntime } from '../program.js';
import { formatDuration, formatInt, table } from '../render.js';
import { positiveInt } from './migrate.js';

interface PlanFlags {
  sample?: number;
  strict?: boolean;
  out?: string;
  batchSize?: number;
}

export function registerPlan(program: Command, rt: CommandRuntime): void {
  program
    .command('plan')
    .summary('assess the source against the Prisma schema, before anything is written')
    .description(
      'Checks the configuration against the Prisma schema (exit 3 on any problem, all listed at once), then reads every\n' +
        'document (or a sample) through the same conversion as migrate and reports, per collection: document count and size,\n' +
        'a type histogram per field path, where each model field comes from, what would be rejected (per field and reason,\n' +
        'with sample _ids), coerced, left dangling or lost, unique-key duplicates, the load order and how cycles are broken,\n' +
        'an estimated duration and what earlier runs already did. Writes migrations-state/plan-<time>.json and\n' +
        'plan-latest.json (next to the configuration, or in --out) and nothing to either database.\n' +
        'Exit 0: migrate would succeed without rejects; 1: it would reject documents or lose fields (or --strict); 3: configuration.',
    )
    .argument('[collections...]', 'collections to assess (default: all configured)')
    .option('--sample <n>', 'assess n documents per collection instead of all ($sample where the server has it, else the first n in _id order)', positiveInt('--sample', 100_000_000))
    .option('--strict', 'also fail (exit 1) when source fields map to no column, even if the extra JSON column keeps them')
    .option('--out <dir>', 'directory for the plan files (default: migrations-state/ next to the configuration)')
    .option('--batch-size <n>', 'documents read per batch (default: the configuration\'s)', positiveInt('--batch-size', 100_000))
    .addHelpText(
      'after',
      `
Examples:
  $ hybrid-migrate plan                     full scan of every collection
  $ hybrid-migrate plan orders --sample 10000
  $ hybrid-migrate plan --json > plan.json`,
    )
    .action(async (collections: string[], flags: PlanFlags) => {
      const global = rt.global();
      const setup = await loadSetup(global, collections);
      const conns = await connect(rt.env, { ...global, command: 'plan', poolSize: 2 });
      const progress = planProgress(rt, Boolean(global.json));
      let report: PlanReport;
      try {
        // The database named and existing (exit 3): a misspelled one would be planned as empty collections.
        const source = await checkSourceCollections(conns.mongo.db, { uri: rt.env.MONGO_URI ?? '', dbName: global.mongoDb, collections: setup.collections });
        for (const c of source.missing) rt.logger.warn({ collection: c }, `collection "${c}" does not exist in MongoDB database "${conns.mongo.db.databaseName}": migrate will refuse it (exit 3) unless --skip-missing-collections`);
        // The plan predicts references through the source (as if loaded in order): say when the order is not kept.
        for (const r of await referencesToUnmigrated(setup.mapping, source.present, conns.pg.pool, conns.mongo.db)) {
          rt.logger.warn({ code: 'HM_REFERENCED_NOT_MIGRATED', collection: r.collection, references: r.target }, unmigratedReferenceLine(r));
        }
        report = await buildPlan(
          {
            db: conns.mongo.db,
            pool: conns.pg.pool,
            mapping: setup.mapping,
            source: { server: conns.mongo.serverVersion, isFerretDb: conns.mongo.isFerretDb, database: conns.mongo.db.databaseName },
            events: progress,
          },
          { collections: setup.collections, sample: flags.sample, batchSize: flags.batchSize, strict: Boolean(flags.strict), signal: rt.signal },
        );
      } finally {
        progress.stop();
        await conns.close();
      }
      const text = rt.scrub(`${JSON.stringify(report, null, 2)}\n`);
      const files = await writePlanFiles(planDirectory(setup.loaded.dir, flags.out), report.createdAt, text);
      if (global.json) {
        rt.stdout(text);
        rt.logger.info({ planFile: files.path }, 'plan written');
      } else rt.stdout(rt.scrub(renderReport(report, files.path)));
      if (report.summary.exitCode === 3) throw new ExitWith(ExitCode.Config);
      if (report.summary.exitCode !== 0) throw new ExitWith(ExitCode.DataIssues);
    });
}

/** Progress on stderr: a bar per collection on a terminal, else a log line every 5 seconds. */
function planProgress(rt: CommandRuntime, quiet: boolean): PlanEvents & { stop(): void } {
  if (rt.isTTY && !quiet) {
    const multibar = new cliProgress.MultiBar(
      { stream: process.stderr, format: ' plan {name} |{bar}| {percentage}% | {value}/{total} docs | ETA {eta_formatted}', hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    const bars = new Map<string, cliProgress.SingleBar>();
    return {
      collectionStarted: (name, total) => void bars.set(name, multibar.create(Math.max(1, total), 0, { name: name.padEnd(14) })),
      batchDone: (name, n) => bars.get(name)?.increment(n),
      collectionFinished: (name, scanned) => {
        bars.get(name)?.setTotal(Math.max(1, scanned));
        bars.get(name)?.update(scanned);
      },
      stop: () => multibar.stop(),
    };
  }
  const state = new Map<string, { read: number; total: number; last: number; started: number }>();
  return {
    collectionStarted(name, total) {
      state.set(name, { read: 0, total, last: Date.now(), started: Date.now() });
      rt.logger.info({ collection: name, total }, 'plan: scanning');
    },
    batchDone(name, n) {
      const s = state.get(name);
      if (!s) return;
      s.read += n;
      if (Date.now() - s.last >= 5000) {
        s.last = Date.now();
        rt.logger.info({ collection: name, read: s.read, total: s.total, docsPerSecond: Math.round((s.read * 1000) / Math.max(1, Date.now() - s.started)) }, 'plan: progress');
      }
    },
    collectionFinished(name, scanned, ms) {
      rt.logger.info({ collection: name, scanned, durationMs: ms }, 'plan: scanned');
    },
    stop() {},
  };
}

function bytes(n: number | null): string {
  if (n === null) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

const pct = (x: number) => (x === 0 ? '' : `${(x * 100).toFixed(x < 0.001 ? 3 : 1)}%`);
const ids = (list: readonly string[]) => (list.length > 0 ? ` e.g. ${list.slice(0, 3).join(', ')}` : '');

export function renderReport(r: PlanReport, planFile: string): string {
  const out: string[] = [];
  out.push(`Plan of ${r.createdAt} — source ${r.source.server}, database ${r.source.database}${r.source.dataBytes !== null ? ` (${bytes(r.source.dataBytes)} of data)` : ''}`);
  out.push(r.scan.kind === 'full' ? 'Scan: every document (full scan)' : `Scan: ${r.scan.note}`);
  out.push(`Load order: ${r.loadOrder.join(' → ')}`);
  for (const d of r.deferred) out.push(`Cycle broken: ${d.collection}.${d.field} → ${d.targetCollection} is written in a second pass, after ${d.targetCollection}`);
  const er = r.earlierRuns;
  out.push(er.stateSchema ? `Earlier runs: last ${er.lastRun ? `${er.lastRun.command} ${er.lastRun.id} (${er.lastRun.status}, ${er.lastRun.startedAt})` : 'none recorded'}` : 'Earlier runs: none (no hybrid_migrate schema in the target)');
  out.push(
    '',
    table(
      ['collection', 'model', 'documents', 'size', 'scanned', 'would write', 'rejects', 'duplicates', 'orphans', 'migrated before', 'est. time'],
      r.collections.map((c) => [
        c.name,
        c.model,
        formatInt(c.documents),
        bytes(c.sizeBytes),
        formatInt(c.scanned),
        formatInt(c.wouldWrite),
        formatInt(c.rejects.documents),
        formatInt(c.duplicates.reduce((n, d) => n + d.count, 0)),
        formatInt(c.orphans.reduce((n, o) => n + o.count, 0)),
        c.history ? `${formatInt(c.history.written)} (${c.history.rangesDone}/${c.history.ranges} ranges)` : '–',
        formatDuration(c.estimate.totalMs),
      ]),
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  for (const c of r.collections) out.push('', ...renderCollection(c));
  out.push(...renderBusinessKeys(r));
  out.push('', `Estimated migrate duration: ${formatDuration(r.estimate.totalMs)} (${r.estimate.assumption})`);
  out.push('', r.summary.exitCode === 0 ? 'Verdict: migrate would succeed without rejects and without losing a field.' : `Verdict: ${r.summary.problems.join('; ')}.`);
  out.push(`Plan file: ${planFile}`);
  return `${out.join('\n')}\n`;
}

function renderFields(fields: readonly FieldPlan[], indent: string): string[] {
  return fields.map((f) => {
    const seen = f.present === undefined ? '' : `  [${formatInt(f.present)} present, ${formatInt(f.nulls ?? 0)} null, ${formatInt(f.missing ?? 0)} missing]`;
    return `${indent}${f.field.padEnd(16)} ${f.type.padEnd(16)}${f.required ? ' required' : ' optional'} ← ${f.source}${seen}${f.note ? ` — ${f.note}` : ''}`;
  });
}

function renderCollection(c: CollectionPlan): string[] {
  const out = [`${c.name} → ${c.model} (${c.table}): ${formatInt(c.documents)} documents, ${bytes(c.sizeBytes)}${c.avgDocumentBytes ? `, ${bytes(Math.round(c.avgDocumentBytes))} on average` : ''}`];
  if (c.history?.mappingChanged) out.push('  ! the mapping changed since the earlier run: migrate will refuse to resume without --restart');
  out.push('  Fields:', ...renderFields(c.fields, '    '));
  for (const ch of c.children) out.push(`  ${ch.from}[] → ${ch.model}:`, ...renderFields(ch.fields, '      '));
  const paths = Object.entries(c.histogram.paths);
  out.push(`  Types per field (${paths.length} paths${c.histogram.overflow.occurrences > 0 ? `, more not kept: ${c.histogram.overflow.occurrences} occurrences, e.g. ${c.histogram.overflow.examples.slice(0, 3).join(', ')}` : ''}):`);
  for (const [path, h] of paths.slice(0, 80)) {
    const types = Object.entries(h.types).map(([t, n]) => `${t} ${formatInt(n)}`).join(', ');
    const extra = [h.missingRate ? `missing ${pct(h.missingRate)}` : '', h.nullRate ? `null ${pct(h.nullRate)}` : '', h.maxArrayLength !== undefined ? `max length ${h.maxArrayLength}` : '', h.maxStringLength !== undefined ? `longest ${formatInt(h.maxStringLength)} chars` : '', h.specialDoubles ? Object.entries(h.specialDoubles).map(([k, n]) => `${k} ${n}`).join(' ') : '']
      .filter(Boolean)
      .join(', ');
    out.push(`    ${path.padEnd(28)} ${types}${extra ? `  (${extra})` : ''}`);
  }
  if (paths.length > 80) out.push(`    … ${paths.length - 80} more in the plan file`);
  if (c.rejects.documents > 0) {
    out.push(`  Would reject ${formatInt(c.rejects.documents)} document(s):`);
    for (const f of c.rejects.byPath) out.push(`    ${f.path} [${f.category}] ${f.kind}: ${formatInt(f.count)}${ids(f.sampleIds)}${f.example && f.example !== f.kind ? `\n      e.g. ${f.example}` : ""}`);
  }
  for (const d of c.duplicates) out.push(`  Duplicates of unique (${d.fields}) of ${d.model}: ${formatInt(d.count)} document(s) refused${d.samples.length ? ` e.g. ${d.samples.slice(0, 3).map((s) => `${s.id} (same key as ${s.firstId})`).join(', ')}` : ''}`);
  if (c.duplicatesIncomplete) out.push('  ! too many distinct unique keys to remember: the duplicate count is a lower bound');
  if (c.orphans.length > 0) {
    out.push('  References to missing documents:');
    for (const o of c.orphans) out.push(`    ${o.field} → ${o.target}: ${formatInt(o.count)} (${o.deferred ? 'second pass, ' : ''}policy ${o.policy})${ids(o.sampleIds)}`);
  }
  if (c.coercions.length > 0) {
    out.push('  Values converted from another representation:');
    for (const k of c.coercions) out.push(`    ${k.field}: ${k.coercion} ${formatInt(k.count)}${ids(k.sampleIds)}${k.note ? ` — ${k.note}` : ""}`);
  }
  if (c.unmapped.length > 0) {
    out.push('  Source fields no column maps:');
    for (const u of c.unmapped) {
      const where = u.destination === 'lost' ? 'LOST (no extra JSON column)' : u.destination === 'ignored' ? 'ignored by the configuration' : `kept in ${u.destination}`;
      out.push(`    ${u.path}: ${formatInt(u.count)} document(s), ${where}${ids(u.sampleIds)}`);
    }
  }
  out.push(...renderUpdatedAt(c));
  for (const u of c.unindexedChildParents) {
    out.push(
      `  ! ${u.table} has no index starting with ${u.column}: verify, the incremental sync and rollback read its rows by parent a batch at a time, and each read would scan the whole table.`,
      `    Add @@index([${fieldOf(c, u)}]) (or @@unique([${fieldOf(c, u)}, position])) to model ${u.model}, then apply the migration.`,
    );
  }
  out.push(`  Scan: ${formatInt(c.scanned)} documents in ${formatDuration(c.timing.totalMs)} (read ${formatDuration(c.timing.readMs)}, convert ${formatDuration(c.timing.convertMs)}, references ${formatDuration(c.timing.referenceMs)})`);
  return out;
}

/** The Prisma field of an unindexed parent column (the column's name when the plan does not list it). */
function fieldOf(c: CollectionPlan, u: CollectionPlan['unindexedChildParents'][number]): string {
  const child = c.children.find((ch) => ch.model === u.model);
  return child?.fields.find((f) => f.column === u.column)?.field ?? u.column;
}

/** Whether the incremental sync can see every change by updatedAt; when not, what to run instead. */
function renderUpdatedAt(c: CollectionPlan): string[] {
  const u = c.updatedAt;
  if (u.usable) return [];
  const out = [`  ! No usable "${u.field}" for the incremental sync (it reads changes by this field):`];
  if (u.missing.count > 0) out.push(`    missing in ${formatInt(u.missing.count)} document(s)${ids(u.missing.sampleIds)}`);
  if (u.notDate.count > 0) out.push(`    not a date in ${formatInt(u.notDate.count)} document(s)${ids(u.notDate.sampleIds)}`);
  if (u.notMaintained.count > 0) out.push(`    not maintained: ${formatInt(u.notMaintained.count)} document(s) changed since they were migrated with "${u.field}" no later than that${ids(u.notMaintained.sampleIds)}`);
  out.push(`    Changes to them are found only by: hybrid-migrate migrate --incremental --detect-changes ${c.name}`);
  return out;
}

/** `by` keys several documents of the referenced collection hold: a configuration error until a policy is chosen. */
function renderBusinessKeys(r: PlanReport): string[] {
  const out: string[] = [];
  for (const k of r.businessKeys) {
    const head = k.policy === 'error' ? 'Configuration error' : 'Accepted (duplicateKeys: \'unresolved\')';
    out.push('', `${head}: "by: '${k.by}'" is not unique in ${k.target}: ${formatInt(k.duplicateValues)} value(s) held by ${formatInt(k.documents)} documents${k.complete ? '' : ' (at least: too many keys to remember)'}; used by ${k.fields.join(', ')}`);
    for (const s of k.samples) out.push(`  ${s.value}: ${s.ids.join(', ')}`);
    if (k.policy === 'error') out.push(`  Fix the data so each ${k.by} is held by one document, or accept it with duplicateKeys: 'unresolved' on the field (a reference to such a value is then left unresolved and handled by onMissingReference).`);
  }
  return out;
}
