/**
 * The benchmark's baseline peer: the simplest copy an operator could write, the ceiling of any
 * tool on this machine. The driver drains the collection in `_id` order and one COPY stream
 * writes each document as ONE jsonb column into a scratch table (no types, no child rows, no
 * keys, no registry, no checkpoints).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Db } from 'mongodb';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { copyValue } from '../src/target/copy.js';

export interface BaselineResult {
  docs: number;
  ms: number;
  /** CPU seconds of this process (driver, JSON, COPY) and of the PostgreSQL backend. */
  nodeCpuS: number;
  pgCpuS: number;
}

export async function jsonbCopy(db: Db, collection: string, databaseUrl: string, backendCpuOf: (pid: number) => number): Promise<BaselineResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('DROP TABLE IF EXISTS bench_jsonb_copy');
    await client.query('CREATE TABLE bench_jsonb_copy (doc jsonb NOT NULL)');
    const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid as number;
    const pg0 = backendCpuOf(backend);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let docs = 0;
    // The driver's defaults, as the simplest script would have them (Int64 read as numbers).
    const cursor = db.collection(collection).find({}, { sort: { _id: 1 }, batchSize: 5000 });
    async function* lines(): AsyncGenerator<string> {
      let buf = '';
      for await (const d of cursor) {
        buf += `${copyValue(JSON.stringify(d))}\n`;
        docs++;
        if (buf.length >= 1 << 20) {
          yield buf;
          buf = '';
        }
      }
      if (buf.length > 0) yield buf;
    }
    await pipeline(Readable.from(lines()), client.query(copyStreams.from('COPY bench_jsonb_copy (doc) FROM STDIN')));
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { docs, ms, nodeCpuS: (cpu.user + cpu.system) / 1e6, pgCpuS: backendCpuOf(backend) - pg0 };
  } finally {
    await client.end().catch(() => undefined);
  }
}
