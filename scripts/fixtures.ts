/**
 * `npm run fixtures -- --scale 10000 --seed 42 [--db name] [--drop] [--batch-size 5000] [--concurrency 2]`
 *
 * Writes the deterministic legacy-data fixtures (dev/fixtures) into the MongoDB named by
 * MONGO_URI and prints the report: documents per collection, variations, skipped variations
 * with their reason, and the speed. Without MONGO_URI, `--ferretdb-data DIR` starts a local
 * FerretDB whose data stays in DIR (stopped again when the script ends).
 */
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { redactText, redactUri, passwordsOf } from '../src/core/redact.js';
import { generateFixtures, isRealMongo, makePlan, VARIATION_INFO } from '../dev/fixtures/generate.js';

const USAGE = `usage: npm run fixtures -- --scale <orders> --seed <n> [--db <name>] [--drop]
                       [--batch-size <n>] [--concurrency <n>] [--ferretdb-data <dir>]
  MONGO_URI          (env) the MongoDB server to write to (e.g. mongodb://127.0.0.1:27017/?directConnection=true)
  --scale            number of orders, 1000 .. 1000000 (default 10000)
  --seed             PRNG seed; same seed + scale => identical data (default 42)
  --db               database name (default hm_fixtures_<scale>_<seed>)
  --drop             drop the database first (otherwise it must not hold fixture collections)
  --ferretdb-data    without MONGO_URI: start a local FerretDB keeping its data in this directory`;

const log = (line: string) => process.stderr.write(`[fixtures] ${line}\n`);

function intArg(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} must be an integer, got ${JSON.stringify(value)}`);
  return n;
}

class UsageError extends Error {}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
    options: {
      scale: { type: 'string' },
      seed: { type: 'string' },
      db: { type: 'string' },
      drop: { type: 'boolean', default: false },
      'batch-size': { type: 'string' },
      concurrency: { type: 'string' },
      'ferretdb-data': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const scale = intArg('scale', values.scale, 10_000);
  const seed = intArg('seed', values.seed, 42);
  const batchSize = intArg('batch-size', values['batch-size'], 5000);
  const concurrency = intArg('concurrency', values.concurrency, 2);
  if (scale < 1) throw new UsageError('--scale must be at least 1');
  if (scale < 1000) log(`warning: below --scale 1000 some rare variations may not occur`);
  const dbName = values.db ?? `hm_fixtures_${scale}_${seed}`;

  let uri = process.env.MONGO_URI;
  let stopServer: (() => Promise<void>) | undefined;
  if (!uri) {
    const dataDir = values['ferretdb-data'];
    if (!dataDir) {
      throw new UsageError(
        'MONGO_URI is not set. Set it to the MongoDB server to fill, e.g.\n' +
          "  MONGO_URI='mongodb://127.0.0.1:27017/?directConnection=true' npm run fixtures -- --scale 10000 --seed 42\n" +
          'or pass --ferretdb-data <dir> to start a local FerretDB that keeps its data in <dir>.',
      );
    }
    try {
      const dev = await import('../dev/servers/index.js');
      const ferret = await dev.startFerretdb({ dataDir, log });
      uri = ferret.uri;
      stopServer = ferret.stop;
    } catch (err) {
      throw new Error(`cannot start a local FerretDB (${err instanceof Error ? err.message : String(err)}); set MONGO_URI instead`);
    }
  }

  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 15_000 });
  try {
    await client.connect().catch((err: unknown) => {
      throw new Error(`cannot connect to ${redactUri(uri)}: ${err instanceof Error ? err.message : String(err)}`);
    });
    const db = client.db(dbName);
    const real = await isRealMongo(db);
    log(`server ${redactUri(uri)} (${real ? 'MongoDB' : 'FerretDB'}), database ${dbName}`);
    if (values.drop) {
      await db.dropDatabase();
      log(`dropped database ${dbName}`);
    } else {
      const existing = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
      const clash = existing.filter((n) => n in makePlan(scale).counts);
      if (clash.length > 0) throw new UsageError(`database ${dbName} already has ${clash.join(', ')}; use --drop or another --db`);
    }

    const plan = makePlan(scale);
    const planned = Object.values(plan.counts).reduce((a, b) => a + b, 0);
    log(`generating ${planned} documents (scale ${scale}, seed ${seed}, batch ${batchSize}, concurrency ${concurrency})`);
    let lastLog = 0;
    const report = await generateFixtures({
      db,
      scale,
      seed,
      realMongo: real,
      batchSize,
      concurrency,
      onProgress: (collection, inserted, total) => {
        const now = Date.now();
        if (inserted === total || now - lastLog > 2000) {
          lastLog = now;
          log(`${collection}: ${inserted}/${total}`);
        }
      },
    });

    const total = Object.values(report.counts).reduce((a, b) => a + b, 0);
    const seconds = report.durationMs / 1000;
    const out: string[] = [];
    out.push(`Fixtures: scale ${scale}, seed ${seed}, database ${dbName} on ${redactUri(uri)} (${real ? 'MongoDB' : 'FerretDB'})`);
    out.push('');
    out.push('Documents per collection:');
    for (const [name, n] of Object.entries(report.counts)) out.push(`  ${name.padEnd(14)} ${String(n).padStart(10)}`);
    out.push(`  ${'total'.padEnd(14)} ${String(total).padStart(10)}`);
    out.push('');
    out.push('Variations (documents carrying each):');
    for (const info of VARIATION_INFO) {
      const n = report.variations[info.name] ?? 0;
      out.push(`  ${info.name.padEnd(30)} ${String(n).padStart(10)}${info.realMongoOnly ? '  (real MongoDB only)' : ''}`);
    }
    out.push('');
    if (report.skipped.length > 0) {
      out.push('Skipped (this server cannot store them):');
      for (const s of report.skipped) out.push(`  ${s.variation.padEnd(30)} ${s.reason}`);
      out.push('');
    }
    out.push(`Time: ${seconds.toFixed(1)} s, ${Math.round(total / Math.max(seconds, 0.001))} docs/s`);
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await client.close().catch(() => {});
    await stopServer?.();
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    // our own text, no connection string in it
    process.stderr.write(`[fixtures] ${err.message}\n`);
    if (!err.message.startsWith('MONGO_URI')) process.stderr.write(`${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const secrets = passwordsOf([process.env.MONGO_URI]);
  process.stderr.write(`[fixtures] ${redactText(err instanceof Error ? err.message : String(err), secrets)}\n`);
  process.exitCode = 1;
});
