/**
 * One source document, converted again, against the rows PostgreSQL holds for it: the
 * differences field by field, child rows by position. Pure, no I/O.
 */
import type { MappedChild, MappedCollection, MappedColumn } from './mapping.js';
import type { ConvertedDocument } from './transform.js';
import { writtenColumns } from './transform.js';
import { createHash } from 'node:crypto';
import { displayTarget, sameValue } from './verify-values.js';

/**
 * A stored row read back with `targetSelect`: column name → text (null for SQL NULL). A text
 * value longer than LONG_TEXT_BYTES is not read back: its column is null, and LONG_TEXTS lists
 * it instead, as `<index among the written columns>:<sha256 hex of its UTF-8 text>:<bytes>`,
 * space-separated (null when the row has none).
 */
export type TargetRow = Readonly<Record<string, string | null>>;

/**
 * Text values above this many bytes are compared by digest (SHA-256 of the UTF-8 text, computed in
 * PostgreSQL) rather than read back: a 15 MB note read back whole cost verify its reply buffer
 * and a second 15 MB string beside the source's, at once (its peak memory).
 */
export const LONG_TEXT_BYTES = 1024 * 1024;

/** The key under which a row's long text values are listed by digest (one column, null for nearly every row). */
export const LONG_TEXTS = '__hm_long_texts';

/** A row's long text values by written-column index: `<sha256 hex> <bytes>` each. */
function longTexts(row: TargetRow): Map<number, string> | undefined {
  const list = row[LONG_TEXTS];
  if (!list) return undefined;
  return new Map(
    list.split(' ').map((entry) => {
      const [index, sha, bytes] = entry.split(':');
      return [Number(index), `${sha} ${bytes}`] as const;
    }),
  );
}

/** What PostgreSQL holds for one document: its row and, per child mapping, the rows whose parent it is. */
export interface TargetRows {
  main: TargetRow | undefined;
  /** Indexed like `MappedCollection.children`: the migration's own child rows only. */
  children: readonly (readonly TargetRow[])[];
  /** The first child row under this document that is not the migration's (the application added it), if any. */
  foreign?: { table: string; row: string };
}

/** One difference between the converted document and the stored rows. */
export interface FieldDifference {
  /** Prisma field path: `deliveryFee`, `items[2].unitPrice`, `items.length`, `items[3]`. */
  field: string;
  /** `table.column`, or `table` for a whole row. */
  column: string;
  /** What the conversion of the source document gives (COPY text), or a description in parentheses. */
  source: string | null;
  /** What PostgreSQL holds (read back as text), or a description in parentheses. */
  target: string | null;
}

/** Placeholder values of row-level differences (a missing or an extra child row). */
export const ROW_PRESENT = '(row)';
export const ROW_ABSENT = '(no row)';

/** Differences between the converted document and its stored rows; empty when they agree. */
export function diffDocument(mapped: MappedCollection, doc: ConvertedDocument, target: TargetRows): FieldDifference[] {
  const out: FieldDifference[] = [];
  const mainRow = doc.rows.find((r) => r.child === null);
  if (!target.main || !mainRow) return [{ field: '(row)', column: mapped.model.table, source: ROW_PRESENT, target: ROW_ABSENT }];
  diffRow(writtenColumns(mapped.columns), mainRow.values, target.main, mapped.model.table, '', out);
  mapped.children.forEach((child, ci) => {
    const expected = doc.rows.filter((r) => r.child === ci).map((r) => r.values);
    diffChildren(child, expected, target.children[ci] ?? [], out);
  });
  return out;
}

function diffRow(columns: readonly MappedColumn[], expected: readonly (string | null)[], actual: TargetRow, table: string, prefix: string, out: FieldDifference[]): void {
  const long = longTexts(actual);
  columns.forEach((m, i) => {
    const source = expected[i] ?? null;
    const digest = long?.get(i);
    if (digest !== undefined) {
      // A long text, compared by digest (LONG_TEXT_BYTES); a difference is shown as digests, not as megabytes of text.
      const mine = source === null ? null : textDigest(source);
      if (mine !== digest) out.push({ field: `${prefix}${m.column.field}`, column: `${table}.${m.column.column}`, source: mine === null ? null : describeDigest(mine), target: describeDigest(digest) });
      return;
    }
    const stored = actual[m.column.column] ?? null;
    if (sameValue(m.column, source, stored)) return;
    // A long source text against a short stored one: shown by digest too.
    const shown = source !== null && source.length * 3 > LONG_TEXT_BYTES && Buffer.byteLength(source, 'utf8') > LONG_TEXT_BYTES ? describeDigest(textDigest(source)) : source;
    out.push({ field: `${prefix}${m.column.field}`, column: `${table}.${m.column.column}`, source: shown, target: displayTarget(m.column, stored) });
  });
}

/** `<sha256 hex> <bytes>` of a text's UTF-8 encoding: what PostgreSQL's digest of a long text value gives. */
export function textDigest(text: string): string {
  return `${createHash('sha256').update(text, 'utf8').digest('hex')} ${Buffer.byteLength(text, 'utf8')}`;
}

function describeDigest(digest: string): string {
  const [sha, bytes] = digest.split(' ');
  return `(${bytes} bytes of text, sha256 ${sha})`;
}

/**
 * Child rows are matched by their position column (the element's index in the source
 * array), or by id when the child model has no position: the count first, then each child.
 */
function diffChildren(child: MappedChild, expected: readonly (readonly (string | null)[])[], actual: readonly TargetRow[], out: FieldDifference[]): void {
  const columns = writtenColumns(child.columns);
  const table = child.model.table;
  const keyIndex = Math.max(
    columns.findIndex((c) => c.source.kind === 'position'),
    0,
  );
  const keyColumn = columns[keyIndex] ?? columns[0];
  if (!keyColumn) return;
  const keyName = keyColumn.column.column;
  if (expected.length !== actual.length) {
    out.push({ field: `${child.label}.length`, column: table, source: String(expected.length), target: String(actual.length) });
  }
  const stored = new Map<string, TargetRow[]>();
  for (const row of actual) {
    const key = normKey(row[keyName] ?? null);
    const list = stored.get(key);
    if (list) list.push(row);
    else stored.set(key, [row]);
  }
  expected.forEach((values, index) => {
    const key = normKey(values[keyIndex] ?? null);
    const label = `${child.label}[${keyColumn.source.kind === 'position' ? key : index}]`;
    const rows = stored.get(key);
    const row = rows?.shift();
    if (!row) {
      out.push({ field: label, column: table, source: ROW_PRESENT, target: ROW_ABSENT });
      return;
    }
    diffRow(columns, values, row, table, `${label}.`, out);
  });
  for (const [key, rows] of stored) {
    for (const row of rows) {
      const id = row[child.idColumn.column] ?? '';
      out.push({ field: `${child.label}[${key}]`, column: table, source: ROW_ABSENT, target: `(row ${id})` });
    }
  }
}

function normKey(v: string | null): string {
  return v === null ? 'null' : v.trim().toLowerCase();
}
