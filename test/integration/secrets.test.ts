/**
 * Connection strings are secrets. Every command, with --verbose, on success and under forced
 * authentication failures and driver errors: the password appears nowhere — not raw, not
 * URL-encoded, not decoded, not in base64 — in stdout, stderr, plan files, reports, or the
 * tool's state tables; URIs are shown as user:***@host.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli, type CliResult } from '../support/cli.js';
import { insertSimpleOrders } from '../support/simple-orders.js';

const t = useTestDatabases();
const SECRET = 'S3cr3t!p@ss%2F';
const FORMS = [...new Set([SECRET, encodeURIComponent(SECRET), decodeURIComponent(SECRET), encodeURIComponent(decodeURIComponent(SECRET))])].flatMap((f) => [f, Buffer.from(f).toString('base64')]);

function expectNoSecret(where: string, text: string): void {
  for (const form of FORMS) expect(text.includes(form), `${where} contains the password as ${JSON.stringify(form)}`).toBe(false);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

let outDir: string;
let goodEnv: { MONGO_URI: string; DATABASE_URL: string };

beforeAll(async () => {
  await insertSimpleOrders(t.db, 300, { badEvery: 50 });
  outDir = mkdtempSync(join(tmpdir(), 'hm-secrets-'));
  // PostgreSQL here trusts local connections, so the password is carried but never checked.
  const pgUrl = new URL(t.databaseUrl);
  pgUrl.username = 'postgres';
  pgUrl.password = encodeURIComponent(SECRET);
  goodEnv = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: pgUrl.toString() };
});

describe('the password in DATABASE_URL never leaks', () => {
  it('through every command, --verbose, on success', async () => {
    const runs: [string, CliResult][] = [];
    const run = async (args: string[]) => runs.push([args.join(' '), await runCli(['--verbose', ...args], goodEnv)]);
    await run(['plan', '--out', outDir]);
    await run(['migrate', '--skip-missing-collections', '--dry-run', '--report', outDir]);
    await run(['migrate', '--skip-missing-collections']);
    await run(['migrate', '--skip-missing-collections', '--incremental', '--detect-deletes']);
    await run(['verify', '--out', outDir]);
    await run(['status']);
    await run(['status', '--json']);
    await run(['rollback', '--dry-run']);
    await run(['rollback', 'orders']);
    for (const [args, r] of runs) {
      expect([0, 1], `${args}: ${r.stderr}`).toContain(r.code);
      expectNoSecret(`stdout of ${args}`, r.stdout);
      expectNoSecret(`stderr of ${args}`, r.stderr);
    }
    // The status report shows which database, never how to log in.
    const status = runs.find(([a]) => a === 'status')?.[1];
    expect(status?.stdout).toMatch(/postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1/);
    const files = filesUnder(outDir);
    expect(files.some((f) => f.endsWith('.html'))).toBe(true);
    expect(files.some((f) => f.endsWith('.json'))).toBe(true);
    for (const f of files) expectNoSecret(f, readFileSync(f, 'utf8'));
    // The tool's state: runs, plans of runs, rejects, conflicts… every table of its schema, as text.
    const tables = await t.pg.query<{ t: string }>(`SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = 'hybrid_migrate'`);
    expect(tables.rows.length).toBeGreaterThan(5);
    for (const { t: table } of tables.rows) {
      const dump = await t.pg.query<{ d: string | null }>(`SELECT string_agg(x::text, E'\\n') AS d FROM ${table} x`);
      expectNoSecret(table, dump.rows[0]?.d ?? '');
    }
  });
});

describe('under forced failures', () => {
  it('PostgreSQL refusing the login, with --verbose stack traces: exit 4, no password', async () => {
    const url = new URL(goodEnv.DATABASE_URL);
    url.username = `hm_nobody_${Date.now()}`;
    for (const cmd of [['migrate'], ['plan'], ['verify'], ['status'], ['rollback']]) {
      const r = await runCli(['--verbose', ...cmd], { ...goodEnv, DATABASE_URL: url.toString() });
      expect(r.code, `${cmd.join(' ')}: ${r.stderr}`).toBe(4);
      expectNoSecret(`stderr of ${cmd.join(' ')}`, r.stderr);
      expectNoSecret(`stdout of ${cmd.join(' ')}`, r.stdout);
    }
  });

  it('a MongoDB URI the driver refuses (unescaped @ in the password) and one with a password it cannot use: exit 4, no password', async () => {
    const server = new URL(t.mongoUri);
    const raw = `mongodb://app:${SECRET}@${server.host}/${t.mongoDbName}?directConnection=true`;
    const encoded = `mongodb://app:${encodeURIComponent(SECRET)}@127.0.0.1:1/${t.mongoDbName}?directConnection=true&serverSelectionTimeoutMS=1000`;
    for (const uri of [raw, encoded]) {
      for (const cmd of [['migrate'], ['plan'], ['status']]) {
        const r = await runCli(['--verbose', ...cmd], { ...goodEnv, MONGO_URI: uri });
        expect(r.code, `${cmd.join(' ')}: ${r.stderr}`).toBe(4);
        expect(r.stderr).toMatch(/MongoDB/);
        expectNoSecret(`stderr of ${cmd.join(' ')}`, r.stderr);
        expectNoSecret(`stdout of ${cmd.join(' ')}`, r.stdout);
      }
    }
  });
});
