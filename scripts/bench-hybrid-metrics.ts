/**
 * `npm run build --silent && node dist/scripts/bench-hybrid-metrics.js [--ops 100] [--rounds 200] [--concurrency 1]`:
 * what `instrumentHybrid` costs the application (issue 19's target: under 5% slower). Tight
 * loops of single-record reads against the real servers, with and without instrumentation,
 * alternated in ONE process (these machines are noisy: ratios measured side by side, never
 * absolute numbers from separate runs):
 *
 *   mongo plain        a mongoose Model's findOne({ _id }).lean(), connection without monitorCommands
 *   mongo plain again  the very same loop once more: its ratio to plain is the noise floor (A/A)
 *   mongo events only  the same with monitorCommands: true and no listener (the driver's own cost)
 *   mongo instrumented the same with instrumentHybrid listening
 *   prisma plain       prisma.workspace.findUnique({ where: { id } }) on the application's client
 *   prisma plain again the same loop once more (A/A)
 *   prisma noop ext    the same through an extension that only calls query(args) (Prisma's own cost)
 *   prisma instrumented the same through instrumentHybrid's client (same base client, same pool)
 *
 * Each variant also gets this process's CPU time per request (process.cpuUsage): the servers'
 * and the neighbours' noise barely moves it, so the CPU a variant adds over the plain one is
 * the instrumentation's cost per request in absolute terms, whatever the server's speed.
 *
 * Starts its own servers (FerretDB and PostgreSQL, as the tests do; `--mongo-uri` names
 * another MongoDB server), works in databases of its own that it drops at the end, and
 * prints a Markdown report on stdout.
 */
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import pg from 'pg';
import { Registry } from 'prom-client';
import ts from 'typescript';
import { applyPrismaMigrations, startLocalServers } from '../dev/servers/index.js';
import { passwordsOf, redactText } from '../src/core/redact.js';
import { HybridMetrics } from '../src/hybrid-mode/hybrid-metrics.js';
import { instrumentHybrid } from '../src/hybrid-mode/instrument.js';
import { MongoCommandMonitor } from '../src/hybrid-mode/mongo-command-monitor.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const log = (s: string) => process.stderr.write(`[bench-hybrid-metrics] ${s}\n`);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyPrisma = any;
type Loop = (i: number) => Promise<unknown>;

function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * A Prisma 7 client generated offline (environment.md: PRISMA_SCHEMA_ENGINE_BINARY names any
 * file) and compiled to JavaScript, since Node 20 cannot import the generated TypeScript.
 */
async function generatePrismaClient(dir: string): Promise<{ PrismaClient: new (o: object) => AnyPrisma }> {
  mkdirSync(dir, { recursive: true });
  const schema = readFileSync(join(root, 'prisma', 'schema.prisma'), 'utf8').replace(/output\s*=\s*"[^"]*"/, 'output = "./client"\n  importFileExtension = "js"');
  writeFileSync(join(dir, 'schema.prisma'), schema);
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  execFileSync(join(root, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', join(dir, 'schema.prisma')], {
    cwd: root,
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    stdio: 'pipe',
  });
  const compile = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) compile(path);
      else if (path.endsWith('.ts')) {
        const out = ts.transpileModule(readFileSync(path, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
        writeFileSync(path.replace(/\.ts$/, '.js'), out.outputText);
      }
    }
  };
  compile(join(dir, 'client'));
  return import(pathToFileURL(join(dir, 'client', 'client.js')).href) as Promise<{ PrismaClient: new (o: object) => AnyPrisma }>;
}

interface Measured {
  rps: number;
  /** CPU time of this process per request, in microseconds: what the instrumentation adds, without the servers' noise. */
  cpuUs: number;
}

/** Requests per second of `ops` calls, `concurrency` in flight, and this process's CPU time per request. */
async function run(loop: Loop, ops: number, concurrency: number): Promise<Measured> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < ops; i = next++) await loop(i);
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { rps: (ops * 1000) / ms, cpuUs: (cpu.user + cpu.system) / ops };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.ceil(pos)]! - s[lo]!) * (pos - lo);
};
const median = (xs: number[]) => quantile(xs, 0.5);

/**
 * Runs every variant once per round, in an order rotated each round, so that each variant's
 * segment sits next to the others' in time; the first round warms up and is not counted.
 */
async function measure(variants: Record<string, Loop>, ops: number, rounds: number, concurrency: number): Promise<Record<string, Measured[]>> {
  const names = Object.keys(variants);
  const results: Record<string, Measured[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r <= rounds; r++) {
    const order = names.map((_, k) => names[(k + r) % names.length]!);
    const line: string[] = [];
    for (const name of order) {
      const m = await run(variants[name]!, ops, concurrency);
      if (r > 0) results[name]!.push(m);
      line.push(`${name} ${Math.round(m.rps)}/s ${Math.round(m.cpuUs)} µs`);
    }
    if (r % 25 === 0 || r === rounds) log(`${r === 0 ? 'warm-up' : `round ${r}`}: ${line.join(', ')}`);
  }
  return results;
}

/** A ratio's geometric mean over the rounds and its 95% confidence interval (normal on the logs). */
function geoMean(ratios: number[]): { mean: number; low: number; high: number } {
  const logs = ratios.map(Math.log);
  const m = logs.reduce((a, b) => a + b, 0) / logs.length;
  const sd = Math.sqrt(logs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, logs.length - 1));
  const half = (1.96 * sd) / Math.sqrt(logs.length);
  return { mean: Math.exp(m), low: Math.exp(m - half), high: Math.exp(m + half) };
}

/** Markdown rows: req/s; the per-round ratio to the baseline (geometric mean with its 95% CI, median); CPU per request and what it adds. */
function report(title: string, results: Record<string, Measured[]>, baseline: string): string[] {
  const rows = [
    `### ${title}`,
    '',
    '| variant | median req/s | req/s ratio to plain: geo-mean [95% CI] | median | slower by (geo-mean) | client CPU µs/request (median) | CPU added µs/request |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  const base = results[baseline]!;
  const baseCpu = median(base.map((m) => m.cpuUs));
  for (const [name, values] of Object.entries(results)) {
    const ratios = values.map((v, i) => v.rps / base[i]!.rps);
    const g = geoMean(ratios);
    const cpu = median(values.map((v) => v.cpuUs));
    const rps = Math.round(median(values.map((v) => v.rps))).toLocaleString('en-US');
    if (name === baseline) rows.push(`| ${name} | ${rps} | 1 | 1 | | ${cpu.toFixed(0)} | |`);
    else rows.push(`| ${name} | ${rps} | ${g.mean.toFixed(3)} [${g.low.toFixed(3)}–${g.high.toFixed(3)}] | ${median(ratios).toFixed(3)} | ${((1 - g.mean) * 100).toFixed(1)}% | ${cpu.toFixed(0)} | ${(cpu - baseCpu).toFixed(0)} |`);
  }
  return [...rows, ''];
}

/**
 * The instrumentation's own code alone, without any server: a command monitor fed synthetic
 * driver events (started + succeeded, as the driver emits them) into a real metrics store, and
 * the store alone. Microseconds per request, the floor of what instrumentHybrid adds.
 */
function hookCost(n = 200_000): { monitorUs: number; storeUs: number } {
  const store = new HybridMetrics({ registry: new Registry() });
  const client = Object.assign(new EventEmitter(), { options: { monitorCommands: true }, db: () => undefined });
  const monitor = new MongoCommandMonitor(client, (r) => store.recordRequest(r));
  const reply = { ok: 1, cursor: { id: 0, ns: 'shop.customers', firstBatch: [{ _id: 1, email: 'c1@example.com' }] } };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    client.emit('commandStarted', { requestId: i, commandName: 'find', command: { find: 'customers', filter: { _id: i }, limit: 1 } });
    client.emit('commandSucceeded', { requestId: i, commandName: 'find', duration: 1, reply });
  }
  const t1 = performance.now();
  for (let i = 0; i < n; i++) store.recordRequest({ database: 'postgresql', target: 'Workspace', operation: 'findUnique', seconds: 0.001 });
  const t2 = performance.now();
  monitor.stop();
  return { monitorUs: ((t1 - t0) * 1000) / n, storeUs: ((t2 - t1) * 1000) / n };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ops: { type: 'string', default: '100' },
      rounds: { type: 'string', default: '200' },
      concurrency: { type: 'string', default: '1' },
      records: { type: 'string', default: '1000' },
      'mongo-uri': { type: 'string' },
    },
  });
  const [ops, rounds, concurrency, records] = [Number(values.ops), Number(values.rounds), Number(values.concurrency), Number(values.records)];
  const servers = await startLocalServers({ env: { ...process.env, MONGO_URI: values['mongo-uri'], DATABASE_URL: undefined }, log });
  const name = `hm_bench_metrics_${process.pid}`;
  const admin = new pg.Pool({ connectionString: servers.databaseUrl, max: 1 });
  admin.on('error', () => undefined);
  const genDir = join(root, 'generated', `bench-hybrid-metrics-${process.pid}`);
  const closers: (() => Promise<unknown>)[] = [];
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const databaseUrl = withDb(servers.databaseUrl, name);
    await applyPrismaMigrations(databaseUrl);
    const mongoUri = withDb(servers.mongoUri, name);
    log('generating the Prisma client');
    const { PrismaClient } = await generatePrismaClient(genDir);
    const { PrismaPg } = await import('@prisma/adapter-pg');
    const prisma: AnyPrisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
    closers.push(() => prisma.$disconnect());

    const connect = async (monitorCommands: boolean) => {
      const conn = mongoose.createConnection(mongoUri, { monitorCommands });
      await conn.asPromise();
      closers.push(() => conn.close());
      return conn.model('Customer', new mongoose.Schema({ email: String, name: String }), 'bench_customers');
    };
    const [plainModel, eventsModel, instrumentedModel] = [await connect(false), await connect(true), await connect(true)];
    const docs = await plainModel.insertMany(Array.from({ length: records }, (_, i) => ({ email: `c${i}@example.com`, name: `Customer ${i}` })));
    const ids = docs.map((d) => d._id);
    await prisma.workspace.createMany({ data: Array.from({ length: records }, (_, i) => ({ name: `w${i}`, slug: `w${i}`, currency: 'EUR' })) });
    const wsIds: string[] = (await prisma.workspace.findMany({ select: { id: true } })).map((w: { id: string }) => w.id);

    const hybrid = instrumentHybrid({ mongo: instrumentedModel.db, prisma, volume: false });
    closers.unshift(() => hybrid.close());
    const noop = prisma.$extends({ query: { $allOperations: ({ args, query }: { args: unknown; query: (a: unknown) => Promise<unknown> }) => query(args) } });
    const findOne = (model: typeof plainModel): Loop => (i) => model.findOne({ _id: ids[i % ids.length] }).lean();
    const findUnique = (client: AnyPrisma): Loop => (i) => client.workspace.findUnique({ where: { id: wsIds[i % wsIds.length] } });

    log(`${rounds} rounds of ${ops} reads per variant, ${concurrency} in flight`);
    // "plain again" runs the very same loop as "plain": its ratio shows the noise floor of the measure.
    const mongo = await measure(
      { 'mongo plain': findOne(plainModel), 'mongo plain again': findOne(plainModel), 'mongo events only': findOne(eventsModel), 'mongo instrumented': findOne(instrumentedModel) },
      ops,
      rounds,
      concurrency,
    );
    const prismaResults = await measure(
      { 'prisma plain': findUnique(prisma), 'prisma plain again': findUnique(prisma), 'prisma noop ext': findUnique(noop), 'prisma instrumented': findUnique(hybrid.prisma) },
      ops,
      rounds,
      concurrency,
    );

    hookCost(20_000); // warm-up
    const hooks = [hookCost(), hookCost(), hookCost()].sort((a, b) => a.monitorUs - b.monitorUs)[1]!;
    const s = hybrid.snapshot().databases;
    const counted = { mongodb: s.mongodb.requests, postgresql: s.postgresql.requests };
    const expected = (rounds + 1) * ops;
    const out = [
      `## instrumentHybrid overhead (${new Date().toISOString().slice(0, 10)}, ${rounds} rounds × ${ops} reads per variant, alternated, concurrency ${concurrency}, ${servers.startedMongo ? 'FerretDB v1' : '--mongo-uri server'}, PostgreSQL local)`,
      '',
      ...report('MongoDB: mongoose findOne({ _id }).lean()', mongo, 'mongo plain'),
      ...report('PostgreSQL: Prisma 7 workspace.findUnique({ where: { id } })', prismaResults, 'prisma plain'),
      `Requests counted by the instrumentation: MongoDB ${counted.mongodb} (expected ${expected}), PostgreSQL ${counted.postgresql} (expected ${expected}).`,
      `The instrumentation's own code, no server (median of 3 × 200,000): ${hooks.monitorUs.toFixed(2)} µs per MongoDB command (events in, metrics out), ${hooks.storeUs.toFixed(2)} µs per request recorded (the Prisma hook's share).`,
      `Latency it saw: MongoDB mean ${s.mongodb.latency.meanMs?.toFixed(3)} ms, p95 ${s.mongodb.latency.p95Ms?.toFixed(3)} ms; PostgreSQL mean ${s.postgresql.latency.meanMs?.toFixed(3)} ms, p95 ${s.postgresql.latency.p95Ms?.toFixed(3)} ms.`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    for (const close of closers) await close().catch(() => undefined);
    const mongo = new (await import('mongodb')).MongoClient(servers.mongoUri);
    await mongo.connect().then(() => mongo.db(name).dropDatabase()).catch(() => undefined);
    await mongo.close().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    rmSync(genDir, { recursive: true, force: true });
    await servers.stop();
  }
}

main().catch((err: unknown) => {
  // Driver errors may quote a connection string: redacted, with --mongo-uri's password.
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`bench failed: ${redactText(text, passwordsOf([process.argv.find((a) => /^mongodb(\+srv)?:/.test(a))]))}\n`);
  process.exitCode = 1;
});
