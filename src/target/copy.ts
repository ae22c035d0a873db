/**
 * COPY FROM STDIN in PostgreSQL's text format: the fastest write path measured on these
 * machines (environment.md), and exact, because every value is sent as the text
 * PostgreSQL parses itself.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { faultPoint } from '../runtime/fault.js';

/** Escapes one value for COPY text format; null is \N. */
export function copyValue(value: string | null): string {
  if (value === null) return '\\N';
  // Fast path: most values need no escaping.
  if (!/[\\\n\r\t]/.test(value)) return value;
  return value.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}

/** One row as a COPY text line. */
export function copyLine(values: readonly (string | null)[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += '\t';
    line += copyValue(values[i] ?? null);
  }
  return `${line}\n`;
}

/** Streams `lines` into `COPY <table> (<columns>) FROM STDIN` on `client`. */
export async function copyRows(client: pg.PoolClient, table: string, columns: readonly string[], lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  const stream = client.query(copyStreams.from(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  // Chunks of ~1 MB keep memory flat and the socket busy.
  await pipeline(Readable.from(withFault(chunk(lines, 1 << 20))), stream);
}

/** The crash tests' kill point inside a COPY: after its first chunk went out, before the end. */
function* withFault(chunks: Iterable<string>): Generator<string> {
  let first = true;
  for (const c of chunks) {
    yield c;
    if (first) faultPoint('migrate:mid-copy');
    first = false;
  }
}

function* chunk(lines: readonly string[], size: number): Generator<string> {
  let buf = '';
  for (const line of lines) {
    buf += line;
    if (buf.length >= size) {
      yield buf;
      buf = '';
    }
  }
  if (buf.length > 0) yield buf;
}
