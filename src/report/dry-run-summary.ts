/**
 * The dry run's result on stdout (`verify --dry-run`): the same shape as verify's --json
 * (`{ok, collections: [{name, source, target, missing, extra, mismatched}]}`) with what a
 * migration would do, and a plain-text summary.
 */
import type { MigrateResult } from '../use-cases/migrate/migrate.js';
import type { WrittenReport } from './write-report.js';

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

/** source: documents read; target: rows that would be written; missing: documents that would be rejected. */
export function dryRunJson(r: MigrateResult, report: WrittenReport | undefined) {
  return {
    ok: !r.interrupted && r.collections.every((c) => c.rejected === 0),
    dryRun: true,
    interrupted: r.interrupted,
    report: report ?? null,
    collections: r.collections.map((c) => ({
      name: c.name,
      source: c.read,
      target: c.migrated,
      missing: c.rejected,
      extra: 0,
      mismatched: 0,
      model: c.model,
      rejected: c.rejected,
      orphans: c.orphans,
      coercions: c.coercions,
      rejectSamples: c.rejectSamples,
      durationMs: c.durationMs,
    })),
  };
}

export function renderDryRunSummary(r: MigrateResult, report: WrittenReport | undefined): string {
  const lines = ['Dry-run verification (nothing written): what a migration would do', ''];
  for (const c of r.collections) {
    lines.push(`  ${c.name}: ${c.read} read, ${c.migrated} would be written, ${c.rejected} rejected, ${sum(c.orphans)} orphan references, ${sum(c.coercions)} coerced values`);
    for (const s of c.rejectSamples.slice(0, 5)) lines.push(`    rejected ${s.sourceKey} ${s.fieldPath}: ${s.reason}`);
  }
  if (report) lines.push('', `Report: ${report.html}`, `        ${report.markdown}`);
  return `${lines.join('\n')}\n`;
}
