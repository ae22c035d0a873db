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

/**
 * One row as a COPY text line. Joined, not concatenated: `+=` makes a rope of one node per
 * piece that V8 keeps until the string is flattened, and a batch keeps its lines until it is
 * written (measured: 27 MB against 4 MB for 32,000 lines of 18 values, and slower to build).
 */
export function copyLine(values: readonly (string | null)[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) parts[i] = copyValue(values[i] ?? null);
  return `${parts.join('\t')}\n`;
}

/** Where `encodeRows` builds its lines; kept between calls unless a huge document grew it. */
let scratch: Buffer = Buffer.allocUnsafe(1 << 16);
const SCRATCH_KEPT = 1 << 22;

/** `buf` with room for `need` more bytes after `used`: itself, or a copy twice as large (at least). */
function withRoom(buf: Buffer, used: number, need: number): Buffer {
  if (buf.length - used >= need) return buf;
  const grown = Buffer.allocUnsafe(Math.max(buf.length * 2, used + need));
  buf.copy(grown, 0, 0, used);
  return grown;
}

/**
 * Rows as COPY text lines in UTF-8, one after the other in one Buffer, with each line's end:
 * what `copyLine` gives, encoded, but written value by value into one scratch buffer, with no
 * line strings, part arrays or joins in between (measured on the fixture orders: half the CPU
 * of building the lines and encoding them, and that much less for the garbage collector).
 */
export function encodeRows(rows: readonly (readonly (string | null)[])[]): { bytes: Buffer; ends: number[] } {
  let buf: Buffer = scratch;
  let o = 0;
  const ends = new Array<number>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const values = rows[r] as readonly (string | null)[];
    for (let i = 0; i < values.length; i++) {
      const v = values[i] ?? null;
      // Room for a tab, the value at 3 bytes per UTF-16 unit (UTF-8's most; an escape is 2 ASCII bytes), and the newline.
      buf = withRoom(buf, o, v === null ? 4 : v.length * 3 + 4);
      if (i > 0) buf[o++] = 0x09;
      if (v === null) {
        buf[o++] = 0x5c; // \N
        buf[o++] = 0x4e;
      } else if (v.length > 0) {
        o += buf.write(copyValue(v), o);
      }
    }
    buf = withRoom(buf, o, 1);
    buf[o++] = 0x0a;
    ends[r] = o;
  }
  const bytes = Buffer.allocUnsafe(o);
  buf.copy(bytes, 0, 0, o);
  scratch = buf.length <= SCRATCH_KEPT ? buf : Buffer.allocUnsafe(1 << 16);
  return { bytes, ends };
}

/**
 * Rows to COPY as UTF-8 bytes: row i is `sources[i]` from `starts[i]` to `ends[i]` (its line,
 * newline included). The batch writer keeps each document's lines encoded in one Buffer, off
 * the JS heap, from its preparation to its write.
 */
export class RowBytes {
  readonly sources: Buffer[] = [];
  readonly starts: number[] = [];
  readonly ends: number[] = [];

  get length(): number {
    return this.sources.length;
  }

  push(source: Buffer, start: number, end: number): void {
    this.sources.push(source);
    this.starts.push(start);
    this.ends.push(end);
  }
}

/** Streams `rows` into `COPY <table> (<columns>) FROM STDIN` on `client`. */
export async function copyRowBytes(client: pg.PoolClient, table: string, columns: readonly string[], rows: RowBytes): Promise<void> {
  if (rows.length > 0) await copyChunks(client, table, columns, byteChunks(rows, CHUNK_BYTES));
}

function* byteChunks(rows: RowBytes, size: number): Generator<Buffer> {
  const { sources, starts, ends } = rows;
  for (let i = 0; i < sources.length; ) {
    let length = 0;
    let j = i;
    do {
      length += (ends[j] as number) - (starts[j] as number);
      j++;
    } while (j < sources.length && length < size);
    if (j === i + 1) {
      // One row as large as a chunk or larger (a document near 16 MB): sent from where it is, not copied.
      yield (sources[i] as Buffer).subarray(starts[i], ends[i]);
      i = j;
      continue;
    }
    const out = Buffer.allocUnsafe(length);
    let offset = 0;
    for (let k = i; k < j; k++) offset += (sources[k] as Buffer).copy(out, offset, starts[k], ends[k]);
    yield out;
    i = j;
  }
}

/** Streams `lines` into `COPY <table> (<columns>) FROM STDIN` on `client`. */
export async function copyRows(client: pg.PoolClient, table: string, columns: readonly string[], lines: readonly string[]): Promise<void> {
  if (lines.length > 0) await copyChunks(client, table, columns, chunk(lines, CHUNK_BYTES));
}

/** Chunks of ~1 MB keep memory flat and the socket busy. */
const CHUNK_BYTES = 1 << 20;

async function copyChunks(client: pg.PoolClient, table: string, columns: readonly string[], chunks: Iterable<string | Buffer>): Promise<void> {
  const stream = client.query(copyStreams.from(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from(withFault(chunks)), stream);
}

/** The crash tests' kill point inside a COPY: after its first chunk went out, before the end. */
function* withFault(chunks: Iterable<string | Buffer>): Generator<string | Buffer> {
  let first = true;
  for (const c of chunks) {
    yield c;
    if (first) faultPoint('migrate:mid-copy');
    first = false;
  }
}

function* chunk(lines: readonly string[], size: number): Generator<string> {
  let parts: string[] = [];
  let length = 0;
  for (const line of lines) {
    parts.push(line);
    length += line.length;
    if (length >= size) {
      yield parts.join('');
      parts = [];
      length = 0;
    }
  }
  if (parts.length > 0) yield parts.join('');
}
