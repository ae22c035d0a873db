/**
 * The verification report as Markdown and as a self-contained HTML page: the counts per
 * collection, then per collection the fields that differ, the mismatches with their
 * values, the missing and extra rows, and the rejects. Pure.
 */
import type { CollectionVerification, VerifyResult } from '../use-cases/verify/verify-result.js';
import { collectionAgrees } from '../use-cases/verify/verify-result.js';
import { html, htmlValue, md, mdValue } from './escape.js';
import { htmlPage, htmlTable, valueCell } from './html-page.js';

const COUNT_HEADERS = ['collection', 'source', 'target', 'migrated', 'rejected', 'not migrated', 'missing', 'extra', 'mismatched', 'checked', 'status'] as const;

function counts(c: CollectionVerification): number[] {
  return [c.source, c.target, c.migrated, c.rejected, c.notMigrated, c.missing, c.extra, c.mismatched, c.checked];
}

function statusOf(c: CollectionVerification, r: VerifyResult): string {
  if (r.interrupted) return 'interrupted';
  return collectionAgrees(c, r.failOnRejects) ? 'ok' : 'DIFFERENCES';
}

function scope(r: VerifyResult): string {
  return r.sample === null ? 'every document compared' : `counts exact; content compared for a random sample of ${r.sample} migrated documents per collection`;
}

/** Documents the application changed or deleted rows of since migration: shown, never an error. */
function applicationTotal(c: CollectionVerification): number {
  return c.changedByApplication + c.deletedByApplication;
}

function nothingToShow(c: CollectionVerification): boolean {
  return collectionAgrees(c, true) && c.uncheckedRegistry === 0 && applicationTotal(c) === 0;
}

const APPLICATION_HEADING = (c: CollectionVerification) =>
  `Changed by the application since migration: ${c.changedByApplication} changed, ${c.deletedByApplication} deleted (kept as the application left them; not differences)`;

const APPLICATION_KIND: Record<string, string> = { 'modified-by-application': 'changed', 'deleted-by-application': 'deleted' };

const EXTRA_REASON: Record<string, string> = {
  'source-deleted': 'document deleted in MongoDB',
  'unregistered-copy': 'copy in the migration id space, not in id_map',
  'registered-under-other-id': 'registered under a uuid that is not the document\u2019s',
};

export function verifyMarkdown(r: VerifyResult): string {
  const out: string[] = [];
  out.push(`# hybrid-migrate verify: ${r.ok ? 'OK' : r.interrupted ? 'INTERRUPTED' : 'DIFFERENCES'}`, '');
  out.push(`Started ${md(r.startedAt)}, took ${md(r.durationMs)} ms; ${md(scope(r))}.`, '');
  out.push(`| ${COUNT_HEADERS.join(' | ')} |`, `|${COUNT_HEADERS.map((_, i) => (i === 0 || i === 10 ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const c of r.collections) out.push(`| ${md(c.name)} | ${counts(c).join(' | ')} | ${statusOf(c, r)} |`);
  out.push('', 'source = migrated + rejected + not migrated. missing = not migrated yet. Rows the application wrote itself are not counted; migrated rows it changed or deleted since are listed apart.');
  for (const c of r.collections) {
    if (nothingToShow(c)) continue;
    out.push('', `## ${md(c.name)} → ${md(c.table)}`);
    if (c.uncheckedRegistry > 0) out.push('', `${c.uncheckedRegistry} registry entries have an \`_id\` type that cannot be looked up; they were not checked for deletion.`);
    const fields = Object.entries(c.fields);
    if (fields.length > 0) {
      out.push('', '### Fields that differ', '', '| field | documents |', '| --- | ---: |', ...fields.map(([f, n]) => `| ${md(f)} | ${n} |`));
    }
    if (c.mismatches.length > 0) {
      out.push('', `### Mismatches (${c.mismatched} documents${c.mismatches.length < c.mismatched ? `; first ${c.mismatches.length} differences shown` : ''})`, '');
      out.push('| source _id | uuid | field | source value | target value |', '| --- | --- | --- | --- | --- |');
      for (const m of c.mismatches) out.push(`| ${md(m.sourceId)} | ${md(m.uuid)} | ${md(m.field)} | ${mdValue(m.source)} | ${mdValue(m.target)} |`);
    }
    if (c.missingRows.length > 0) {
      out.push('', `### Missing rows (${c.missing})`, '', '| source _id | uuid | why |', '| --- | --- | --- |');
      for (const m of c.missingRows) out.push(`| ${md(m.sourceId)} | ${md(m.uuid ?? '')} | ${m.reason === 'row-deleted' ? 'registered, row gone' : 'not migrated yet'} |`);
    }
    if (applicationTotal(c) > 0) {
      out.push('', `### ${APPLICATION_HEADING(c)}`, '', '| source _id | what | table | row |', '| --- | --- | --- | --- |');
      for (const a of c.applicationChanges) out.push(`| ${md(a.sourceId)} | ${APPLICATION_KIND[a.kind] ?? a.kind} | ${md(a.table)} | ${md(a.row)} |`);
    }
    if (c.extraRows.length > 0) {
      out.push('', `### Extra rows (${c.extra})`, '', '| uuid | source key | why |', '| --- | --- | --- |');
      for (const e of c.extraRows) out.push(`| ${md(e.uuid)} | ${md(e.sourceKey ?? '')} | ${md(EXTRA_REASON[e.reason] ?? e.reason)} |`);
    }
    if (c.rejectSamples.length > 0) {
      out.push('', `### Rejected documents (${c.rejected}; first ${c.rejectSamples.length})`, '', '| source key | field | reason |', '| --- | --- | --- |');
      for (const s of c.rejectSamples) out.push(`| ${md(s.sourceKey)} | ${md(s.fieldPath)} | ${md(s.reason)} |`);
    }
  }
  return `${out.join('\n')}\n`;
}

export function verifyHtml(r: VerifyResult): string {
  const title = `hybrid-migrate verify — ${r.ok ? 'OK' : r.interrupted ? 'interrupted' : 'differences'}`;
  const body: string[] = [];
  body.push(`<h1>hybrid-migrate verify <span id="verdict" class="badge ${r.ok ? 'ok' : 'bad'}">${r.ok ? 'OK' : r.interrupted ? 'INTERRUPTED' : 'DIFFERENCES'}</span></h1>`);
  body.push(`<p class="meta">Started ${html(r.startedAt)} · ${html(r.durationMs)} ms · ${html(scope(r))}</p>`);
  const rows = r.collections.map((c) => {
    const agrees = collectionAgrees(c, r.failOnRejects);
    return [
      html(c.name),
      ...counts(c).map((n, i) => ((i === 5 || i === 6 || i === 7) && n > 0 ? `<td class="num bad">${html(n)}</td>` : html(n))),
      agrees ? html(statusOf(c, r)) : `<td class="bad">${html(statusOf(c, r))}</td>`,
    ];
  });
  body.push(htmlTable('summary', [...COUNT_HEADERS], rows, [1, 2, 3, 4, 5, 6, 7, 8, 9], (i) => `data-collection="${html(r.collections[i]?.name)}"`));
  body.push('<p class="note">source = migrated + rejected + not migrated · missing = not migrated yet · rows the application wrote itself are not counted; migrated rows it changed or deleted since are listed apart.</p>');
  for (const c of r.collections) {
    if (nothingToShow(c)) continue;
    body.push(`<h2 id="c-${html(c.name)}">${html(c.name)} → <code>${html(c.table)}</code></h2>`);
    if (c.uncheckedRegistry > 0) body.push(`<p class="note">${html(c.uncheckedRegistry)} registry entries have an _id type that cannot be looked up; they were not checked for deletion.</p>`);
    const fields = Object.entries(c.fields);
    if (fields.length > 0) body.push('<h3>Fields that differ</h3>', htmlTable(undefined, ['field', 'differences'], fields.map(([f, n]) => [`<code>${html(f)}</code>`, html(n)]), [1]));
    if (c.mismatches.length > 0) {
      body.push(`<h3>Mismatches: ${html(c.mismatched)} documents${c.mismatches.length < c.mismatched ? ` (first ${html(c.mismatches.length)} differences shown)` : ''}</h3>`);
      body.push(
        htmlTable(
          `mismatches-${c.name}`,
          ['source _id', 'uuid', 'field', 'source value', 'target value'],
          c.mismatches.map((m) => [`<code>${html(m.sourceId)}</code>`, `<code>${html(m.uuid)}</code>`, `<code>${html(m.field)}</code>`, valueCell(htmlValue(m.source)), valueCell(htmlValue(m.target))]),
          [],
          (i) => `class="mismatch" data-uuid="${html(c.mismatches[i]?.uuid)}" data-field="${html(c.mismatches[i]?.field)}"`,
        ),
      );
    }
    if (c.missingRows.length > 0) {
      body.push(`<h3>Missing rows: ${html(c.missing)}</h3>`);
      body.push(htmlTable(`missing-${c.name}`, ['source _id', 'uuid', 'why'], c.missingRows.map((m) => [`<code>${html(m.sourceId)}</code>`, `<code>${html(m.uuid ?? '')}</code>`, html(m.reason === 'row-deleted' ? 'registered, row gone' : 'not migrated yet')])));
    }
    if (applicationTotal(c) > 0) {
      body.push(`<h3>${html(APPLICATION_HEADING(c))}</h3>`);
      body.push(htmlTable(`application-${c.name}`, ['source _id', 'what', 'table', 'row'], c.applicationChanges.map((a) => [`<code>${html(a.sourceId)}</code>`, html(APPLICATION_KIND[a.kind] ?? a.kind), `<code>${html(a.table)}</code>`, `<code>${html(a.row)}</code>`])));
    }
    if (c.extraRows.length > 0) {
      body.push(`<h3>Extra rows: ${html(c.extra)}</h3>`);
      body.push(htmlTable(`extra-${c.name}`, ['uuid', 'source key', 'why'], c.extraRows.map((e) => [`<code>${html(e.uuid)}</code>`, `<code>${html(e.sourceKey ?? '')}</code>`, html(EXTRA_REASON[e.reason] ?? e.reason)])));
    }
    if (c.rejectSamples.length > 0) {
      body.push(`<h3>Rejected documents: ${html(c.rejected)} (first ${html(c.rejectSamples.length)})</h3>`);
      body.push(htmlTable(undefined, ['source key', 'field', 'reason'], c.rejectSamples.map((s) => [`<code>${html(s.sourceKey)}</code>`, `<code>${html(s.fieldPath)}</code>`, valueCell(htmlValue(s.reason))])));
    }
  }
  return htmlPage(title, body.join('\n'));
}
