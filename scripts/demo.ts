/**
 * `npm run demo`: the tool's main job end to end on local servers, from nothing.
 *
 * Starts FerretDB (a MongoDB wire-protocol server) and PostgreSQL (the machine's, or a
 * private cluster), loads realistic legacy data with every kind of mess production leaves,
 * applies the application's Prisma migration, then runs the real CLI: plan, migrate,
 * migrate again (nothing left to do), verify (with its HTML report) and status. Prints what
 * it did and stops the servers it started.
 * It never uses MONGO_URI / DATABASE_URL: the demo touches no database of yours.
 *
 *   npm run demo [-- --scale 3000 --seed 7 --keep]
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { applyPrismaMigrations, startLocalServers } from '../dev/servers/index.js';
import { generateFixtures, isRealMongo } from '../dev/fixtures/generate.js';
import { redactUri } from '../src/core/redact.js';

const DEMO_PG_DB = 'hybrid_migrate_demo';
const DEMO_MONGO_DB = 'legacy_shop';
const bin = fileURLToPath(new URL('../../bin/hybrid-migrate', import.meta.url));

const say = (line = '') => process.stdout.write(`${line}\n`);
const step = (n: number, title: string) => say(`\n━━ ${n}. ${title} ${'━'.repeat(Math.max(0, 60 - title.length))}`);

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Runs the real CLI, output straight to the terminal; resolves to its exit code. */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  say(`$ hybrid-migrate ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { scale: { type: 'string', default: '3000' }, seed: { type: 'string', default: '7' }, keep: { type: 'boolean', default: false } } });
  const scale = Number(values.scale);
  const seed = Number(values.seed);
  const started = Date.now();
  const reportDir = fileURLToPath(new URL('../../migrations-state/demo-reports', import.meta.url));

  step(1, 'Local servers');
  const localEnv = { ...process.env, MONGO_URI: undefined, DATABASE_URL: undefined };
  const servers = await startLocalServers({ env: localEnv, log: (l) => say(`  ${l}`) });
  const admin = new pg.Client({ connectionString: servers.databaseUrl });
  let code = 0;
  try {
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${DEMO_PG_DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DEMO_PG_DB}`);
    const databaseUrl = withDatabase(servers.databaseUrl, DEMO_PG_DB);
    const mongoUri = withDatabase(servers.mongoUri, DEMO_MONGO_DB);
    say(`  MongoDB source:    ${redactUri(mongoUri)}`);
    say(`  PostgreSQL target: ${redactUri(databaseUrl)}`);

    step(2, "The application's PostgreSQL schema (prisma/migrations)");
    const applied = await applyPrismaMigrations(databaseUrl);
    say(`  applied: ${applied.applied.join(', ') || '(already up to date)'}`);

    step(3, `Legacy MongoDB data: ${scale.toLocaleString('en-US')} orders, seed ${seed}`);
    const mongo = new MongoClient(servers.mongoUri);
    await mongo.connect();
    try {
      const db = mongo.db(DEMO_MONGO_DB);
      await db.dropDatabase();
      const report = await generateFixtures({ db, scale, seed, realMongo: await isRealMongo(db) });
      say(`  ${Object.entries(report.counts).map(([c, n]) => `${c} ${n.toLocaleString('en-US')}`).join(' · ')}`);
      say(`  ${Object.keys(report.variations).length} kinds of production mess in it (old/new order shapes, numbers as text, dates as text and epoch, dangling references, duplicates, NUL-free exotic text, schema drift…)`);
      for (const s of report.skipped) say(`  skipped ${s.variation}: ${s.reason}`);
    } finally {
      await mongo.close();
    }

    const env = { ...localEnv, MONGO_URI: mongoUri, DATABASE_URL: databaseUrl };
    step(4, 'plan: every document assessed against the Prisma schema, before any write');
    // Exit code 1 is expected here: the legacy data holds documents migrate will reject.
    await cli(['plan'], env);

    step(5, 'migrate: every collection, in foreign-key order');
    const migrateCode = await cli(['migrate'], env);

    step(6, 'migrate again: checkpoints say everything is done, nothing is written');
    await cli(['migrate'], env);

    step(7, 'verify: every document converted again and compared with its rows; report written');
    const verifyCode = await cli(['verify', '--out', reportDir], env);

    step(8, 'status: both databases, progress per collection, readiness for Phase 3');
    await cli(['status'], env);

    step(9, 'What PostgreSQL now holds');
    const target = new pg.Client({ connectionString: databaseUrl });
    await target.connect();
    try {
      const counts = await target.query<{ t: string; n: string }>(
        `SELECT t, n FROM (VALUES ('workspaces', (SELECT count(*) FROM workspaces)), ('users', (SELECT count(*) FROM users)),
           ('products', (SELECT count(*) FROM products)), ('clients', (SELECT count(*) FROM clients)), ('orders', (SELECT count(*) FROM orders)),
           ('order_items', (SELECT count(*) FROM order_items)), ('order_status_history', (SELECT count(*) FROM order_status_history)),
           ('transactions', (SELECT count(*) FROM transactions)), ('reports', (SELECT count(*) FROM reports)),
           ('decisions', (SELECT count(*) FROM decisions)), ('goals', (SELECT count(*) FROM goals))) AS x(t, n)`,
      );
      say(`  rows: ${counts.rows.map((r) => `${r.t} ${Number(r.n).toLocaleString('en-US')}`).join(' · ')}`);
      const registry = await target.query<{ n: string }>('SELECT count(*) AS n FROM hybrid_migrate.id_map');
      say(`  ObjectId→UUID registry (hybrid_migrate.id_map): ${Number(registry.rows[0]?.n).toLocaleString('en-US')} documents`);
      const rejects = await target.query<{ collection: string; field_path: string; n: string; example: string }>(
        `SELECT collection, field_path, count(*) AS n, min(reason) AS example FROM hybrid_migrate.rejects GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 12`,
      );
      if (rejects.rows.length > 0) {
        say('  set aside in hybrid_migrate.rejects (original document kept, with the reason):');
        for (const r of rejects.rows) say(`    ${r.collection}.${r.field_path}: ${r.n} — e.g. ${r.example.slice(0, 110)}`);
      }
    } finally {
      await target.end();
    }
    if (migrateCode !== 0) code = migrateCode;
    if (verifyCode !== 0) code = verifyCode;
    say(`\n  verification report: ${reportDir}`);
    say(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.${values.keep ? ` PostgreSQL database "${DEMO_PG_DB}" kept for you to explore.` : ''}`);
    if (!values.keep) await admin.query(`DROP DATABASE IF EXISTS ${DEMO_PG_DB} WITH (FORCE)`);
  } finally {
    await admin.end().catch(() => undefined);
    await servers.stop();
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
