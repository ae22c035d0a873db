import { describe, expect, it } from 'vitest';
import { html, md, mdValue, shorten } from '../../src/report/escape.js';
import { verifyHtml, verifyMarkdown } from '../../src/report/verify-report.js';
import type { VerifyResult } from '../../src/use-cases/verify/verify-result.js';

const HOSTILE = '<script>alert(1)</script>|*x*|`y`\n[l](javascript:x)';

function result(): VerifyResult {
  return {
    ok: false,
    startedAt: '2024-01-01T00:00:00.000Z',
    durationMs: 5,
    sample: null,
    interrupted: false,
    failOnRejects: false,
    collections: [
      {
        name: 'orders', model: 'Order', table: 'orders', source: 3, target: 3, migrated: 3, rejected: 0, notMigrated: 0, missing: 0, extra: 0, mismatched: 1, changedByApplication: 0, deletedByApplication: 0, applicationChanges: [], checked: 3,
        uncheckedRegistry: 0, keptDeletedInSource: 0, fields: { notes: 1 }, durationMs: 1, missingRows: [], extraRows: [], rejectSamples: [],
        mismatches: [{ collection: 'orders', sourceKey: 'oid:aa', sourceId: 'aa', uuid: 'u-1', field: 'notes', column: 'orders.notes', source: HOSTILE, target: null }],
      },
    ],
  };
}

describe('reports escape every value', () => {
  it('HTML: no markup from values, NULL shown', () => {
    const page = verifyHtml(result());
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(page).toContain('<span class="null">NULL</span>');
    expect(page).not.toMatch(/<link|<script|src=/);
    expect(html('"\'`&')).toBe('&#34;&#39;&#96;&#38;');
  });

  it('Markdown: values cannot break the table or add markup', () => {
    const text = verifyMarkdown(result());
    const row = text.split('\n').find((l) => l.startsWith('| aa |')) as string;
    expect(row.split(/(?<!\\)\|/).length).toBe(7);
    expect(row).not.toContain('<script>');
    expect(md('a|b*c')).toBe('a&#124;b\\*c');
    expect(mdValue(null)).toBe('*NULL*');
    expect(shorten('x'.repeat(1000)).length).toBeLessThan(400);
  });
});
