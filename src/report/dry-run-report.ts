/**
 * The report of a migration that has not happened yet (`migrate --dry-run`, `verify
 * --dry-run`): what would be written, rejected (per field path, with reasons) and coerced,
 * and the references to missing documents. Pure: renders the dry run's MigrateResult.
 */
import type { CollectionSummary, MigrateResult } from '../use-cases/migrate/migrate.js';
import { html, htmlValue, md } from './escape.js';
import { htmlPage, htmlTable, valueCell } from './html-page.js';

/** Rejects per field path: the complete count when the result carries it, else counted over the samples. */
function rejectsByField(c: CollectionSummary): { counts: [string, number][]; complete: boolean } {
  const full = (c as CollectionSummary & { rejectsByField?: Record<string, number> }).rejectsByField;
  if (full) return { counts: Object.entries(full).sort((a, b) => b[1] - a[1]), complete: true };
  const m = new Map<string, number>();
  for (const s of c.rejectSamples) m.set(s.fieldPath || '(document)', (m.get(s.fieldPath || '(document)') ?? 0) + 1);
  return { counts: [...m].sort((a, b) => b[1] - a[1]), complete: false };
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

export function dryRunMarkdown(r: MigrateResult, generatedAt: string): string {
  const out: string[] = [`# hybrid-migrate dry run: what a migration would do`, '', `Generated ${md(generatedAt)}. Nothing was written.`, ''];
  out.push('| collection | model | read | would write | would reject | orphan references | coerced values |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const c of r.collections) out.push(`| ${md(c.name)} | ${md(c.model)} | ${c.read} | ${c.migrated} | ${c.rejected} | ${sum(c.orphans)} | ${sum(c.coercions)} |`);
  for (const c of r.collections) {
    const byField = rejectsByField(c);
    if (c.rejected === 0 && sum(c.orphans) === 0 && sum(c.coercions) === 0) continue;
    out.push('', `## ${md(c.name)}`);
    if (byField.counts.length > 0) {
      out.push('', `### Would reject, per field${byField.complete ? '' : ' (over the first rejects)'}`, '', '| field | documents |', '| --- | ---: |', ...byField.counts.map(([f, n]) => `| ${md(f)} | ${n} |`));
      out.push('', '| source key | field | reason |', '| --- | --- | --- |', ...c.rejectSamples.map((s) => `| ${md(s.sourceKey)} | ${md(s.fieldPath)} | ${md(s.reason)} |`));
    }
    const orphans = Object.entries(c.orphans);
    if (orphans.length > 0) out.push('', '### References to missing documents', '', '| field | references |', '| --- | ---: |', ...orphans.map(([f, n]) => `| ${md(f)} | ${n} |`));
    const coercions = Object.entries(c.coercions).sort((a, b) => b[1] - a[1]);
    if (coercions.length > 0) out.push('', '### Values converted from another representation', '', '| field: conversion | values |', '| --- | ---: |', ...coercions.map(([f, n]) => `| ${md(f)} | ${n} |`));
  }
  return `${out.join('\n')}\n`;
}

export function dryRunHtml(r: MigrateResult, generatedAt: string): string {
  const body: string[] = [];
  const rejected = r.collections.reduce((n, c) => n + c.rejected, 0);
  body.push(`<h1>hybrid-migrate dry run <span id="verdict" class="badge ${rejected === 0 ? 'ok' : 'bad'}">${rejected === 0 ? 'NO REJECTS' : `${html(rejected)} WOULD BE REJECTED`}</span></h1>`);
  body.push(`<p class="meta">Generated ${html(generatedAt)} · nothing was written</p>`);
  body.push(
    htmlTable(
      'summary',
      ['collection', 'model', 'read', 'would write', 'would reject', 'orphan references', 'coerced values'],
      r.collections.map((c) => [html(c.name), html(c.model), html(c.read), html(c.migrated), c.rejected > 0 ? `<td class="num bad">${html(c.rejected)}</td>` : html(c.rejected), html(sum(c.orphans)), html(sum(c.coercions))]),
      [2, 3, 4, 5, 6],
      (i) => `data-collection="${html(r.collections[i]?.name)}"`,
    ),
  );
  for (const c of r.collections) {
    if (c.rejected === 0 && sum(c.orphans) === 0 && sum(c.coercions) === 0) continue;
    body.push(`<h2>${html(c.name)} → <code>${html(c.model)}</code></h2>`);
    const byField = rejectsByField(c);
    if (byField.counts.length > 0) {
      body.push(`<h3>Would reject, per field${byField.complete ? '' : ' (over the first rejects)'}</h3>`, htmlTable(`rejects-${c.name}`, ['field', 'documents'], byField.counts.map(([f, n]) => [`<code>${html(f)}</code>`, html(n)]), [1]));
      body.push(htmlTable(undefined, ['source key', 'field', 'reason'], c.rejectSamples.map((s) => [`<code>${html(s.sourceKey)}</code>`, `<code>${html(s.fieldPath)}</code>`, valueCell(htmlValue(s.reason))])));
    }
    const orphans = Object.entries(c.orphans);
    if (orphans.length > 0) body.push('<h3>References to missing documents</h3>', htmlTable(undefined, ['field', 'references'], orphans.map(([f, n]) => [`<code>${html(f)}</code>`, html(n)]), [1]));
    const coercions = Object.entries(c.coercions).sort((a, b) => b[1] - a[1]);
    if (coercions.length > 0) body.push('<h3>Values converted from another representation</h3>', htmlTable(`coercions-${c.name}`, ['field: conversion', 'values'], coercions.map(([f, n]) => [`<code>${html(f)}</code>`, html(n)]), [1]));
  }
  return htmlPage('hybrid-migrate dry run', body.join('\n'));
}
