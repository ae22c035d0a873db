/**
 * Hostile input: collection and field names made to break SQL or JavaScript objects, two
 * long names that only differ after PostgreSQL's 63-byte identifier limit, unicode,
 * 100-level nesting. Names are only ever values or quoted identifiers: nothing is
 * injected, nothing collides, nothing pollutes a prototype, and nothing is lost.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasRealMongo, useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { REPO_ROOT } from '../support/migration.js';
import { objectIdToUuid } from '../../src/core/ids.js';
import { startStatementLog, statementKind, unquotedSql, type StatementLog } from '../support/statement-log.js';
import { nested } from '../support/simple-orders.js';

const t = useTestDatabases();
// FerretDB's own SQLite layer cannot create a collection whose name holds a double quote: the
// classic name runs against a real MongoDB, an equivalent one on FerretDB.
const INJECTION = hasRealMongo() ? 'x"; DROP TABLE y;--' : "x'); DROP TABLE y --";
const DOTTED = 'legacy.products';
const LONG_A = `${'a'.repeat(63)}1-goals`;
const LONG_B = `${'a'.repeat(63)}2-goals`;
const UNICODE = 'décisions_été_🚀';
let env: { MONGO_URI: string; DATABASE_URL: string };
let configFile: string;
let log: StatementLog;
const ws = new ObjectId();

/** The configuration under test; only the long-named B collection's transaction fields vary. */
function writeConfig(longBFields: Record<string, unknown>): void {
  writeFileSync(
    configFile,
    `export default ${JSON.stringify({
      schema: join(REPO_ROOT, 'prisma/schema.prisma'),
      collections: {
        workspaces: { model: 'Workspace', fields: { ownerId: false } },
        [INJECTION]: { model: 'Goal', fields: { createdById: false, productId: false } },
        [LONG_A]: { model: 'Report', fields: { date: 'startDate', createdById: false, productId: false } },
        [LONG_B]: { model: 'Transaction', fields: { ...longBFields, date: 'startDate', createdById: false, orderId: false } },
        [UNICODE]: { model: 'Decision', fields: { productId: false, decidedById: false } },
        [DOTTED]: { model: 'Product', fields: { createdById: false } },
      },
    })};\n`,
  );
}

beforeAll(async () => {
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  await t.pg.query('CREATE TABLE y (canary int)');
  await t.db.collection('workspaces').insertOne({ _id: ws, name: 'W', slug: 'w', currency: 'XOF', createdAt: new Date(), settings: nested(95) });
  const goal = (period: string) => ({ workspaceId: ws, period, startDate: new Date('2021-01-01T00:00:00Z'), endDate: new Date('2021-02-01T00:00:00Z'), createdAt: new Date() });
  // FerretDB cannot store a key with a double quote either: that one only against a real MongoDB.
  const hostileKeys: Record<string, unknown> = JSON.parse(hasRealMongo() ? '{"__proto__": {"polluted": true}, "constructor": "c", "a\\"b": 1}' : '{"__proto__": {"polluted": true}, "constructor": "c"}');
  await t.db.collection(INJECTION).insertMany([{ ...goal('daily'), ...hostileKeys }]);
  await t.db.collection(LONG_A).insertOne(goal('weekly'));
  await t.db.collection(LONG_B).insertOne(goal('monthly'));
  await t.db.collection(UNICODE).insertOne({ workspaceId: ws, decision: 'keep', reason: 'تمام 😀', createdAt: new Date() });
  await t.db.collection(DOTTED).insertOne({ workspaceId: ws, name: 'Dotted', createdAt: new Date() });
  const dir = mkdtempSync(join(tmpdir(), 'hm-hostile-'));
  configFile = join(dir, 'hybrid-migrate.config.mjs');
  writeConfig({ type: { from: 'period' }, amount: false });
});

describe('hostile names and shapes', () => {
  it('a configuration mapping a required field to nothing is refused before any write (exit 3)', async () => {
    const r = await runCli(['--config', configFile, 'migrate'], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/Transaction\.amount" has no default, so it needs a source/);
    const schema = await t.pg.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'hybrid_migrate'`);
    expect(schema.rows).toEqual([]);
  });

  it('migrates collections with injection, long and unicode names into the right tables, and nothing else happens', async () => {
    // The same mapping, with a source for every required field.
    writeConfig({ type: { from: 'period' }, amount: { from: 'period' } });
    log = await startStatementLog(t.pg, new URL(t.databaseUrl).pathname.slice(1));
    const plan = await runCli(['--config', configFile, 'plan', '--json'], env);
    // Exit 1: plan predicts the one reject below; no collision between the two long names is reported.
    expect(plan.code, plan.stderr).toBe(1);
    const r = await runCli(['--config', configFile, 'migrate', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { collections: { name: string; read: number; migrated: number; rejected: number }[] };
    const byName = Object.fromEntries(out.collections.map((c) => [c.name, c]));
    expect(byName[INJECTION]).toMatchObject({ read: 1, migrated: 1 });
    expect(byName[LONG_A]).toMatchObject({ read: 1, migrated: 1 });
    // 'monthly' is not a transaction type: rejected with its source field named — and the two long names do not collide.
    expect(byName[LONG_B]).toMatchObject({ read: 1, migrated: 0, rejected: 1 });
    expect(byName[UNICODE]).toMatchObject({ read: 1, migrated: 1 });
    expect(byName[DOTTED]).toMatchObject({ read: 1, migrated: 1 });
    const canary = await t.pg.query(`SELECT to_regclass('public.y') IS NOT NULL AS present`);
    expect(canary.rows[0]).toEqual({ present: true });
    const goal = await t.pg.query<{ period: string; extra: Record<string, unknown> }>(`SELECT period::text, legacy_extra AS extra FROM goals`);
    expect(goal.rows[0]?.period).toBe('daily');
    // A field named __proto__ is kept as data, like any other field; the tool's objects are not polluted.
    expect(goal.rows[0]?.extra).toEqual(JSON.parse(hasRealMongo() ? '{"__proto__": {"polluted": true}, "constructor": "c", "a\\"b": 1}' : '{"__proto__": {"polluted": true}, "constructor": "c"}'));
    const state = await t.pg.query<{ collection: string }>(`SELECT DISTINCT collection FROM hybrid_migrate.checkpoints ORDER BY 1`);
    expect(state.rows.map((x) => x.collection).sort()).toEqual([INJECTION, LONG_A, LONG_B, UNICODE, DOTTED, 'workspaces'].sort());
    const reject = await t.pg.query(`SELECT collection, field_path FROM hybrid_migrate.rejects`);
    expect(reject.rows).toEqual([{ collection: LONG_B, field_path: 'period' }]); // the source path, as operators know it
    const decision = await t.pg.query(`SELECT reason FROM decisions`);
    expect(decision.rows[0]).toEqual({ reason: 'تمام 😀' });
    const settings = await t.pg.query<{ depth: string }>(`SELECT jsonb_path_query_first(settings, 'lax $.**.leaf') #>> '{}' AS depth FROM workspaces WHERE id = $1`, [objectIdToUuid(ws)]);
    expect(settings.rows[0]).toEqual({ depth: 'bottom' });
  });

  it("the server's statement log: only the statements the tool sends, the hostile names never parsed as SQL", (ctx) => {
    // The witness can fail: an injected name shows outside quotes, a quoted one does not.
    expect(unquotedSql(`SELECT * FROM "x"; DROP TABLE y;--"`)).toMatch(/\bDROP\b/);
    expect(unquotedSql(`SELECT 'x''); DROP TABLE y --', "x""; DROP TABLE y;--"`)).not.toMatch(/\bDROP\b/);
    if (!log.file) ctx.skip(true, 'the PostgreSQL server log is not readable here: the canary table above is the only witness');
    const statements = log.read();
    // The log is live for this database: it holds the migration's COPY into the injection-named collection's table.
    expect(statements.some((s) => /^COPY "public"\."goals"/.test(s))).toBe(true);
    const kinds = new Set(statements.map(statementKind));
    const expected = ['BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE', 'SELECT', 'WITH', 'INSERT', 'UPDATE', 'DELETE', 'COPY', 'CREATE', 'SET', 'SHOW', 'LOCK', 'ALTER', 'COMMENT', 'ANALYZE'];
    expect([...kinds].filter((k) => !expected.includes(k))).toEqual([]);
    // ANALYZE (migrate analyzes the tables it loaded) only of one schema-qualified, quoted table each.
    expect(statements.filter((s) => statementKind(s) === 'ANALYZE' && !/^\s*ANALYZE "[^"]+"\."[^"]+"\s*$/.test(s))).toEqual([]);
    // CREATE and ALTER only for the tool's own state schema and its session's staging tables.
    const ddl = statements.filter((s) => ['CREATE', 'ALTER', 'COMMENT'].includes(statementKind(s)));
    expect(ddl.filter((s) => !/^\s*(CREATE (SCHEMA|TABLE|UNIQUE INDEX|INDEX) IF NOT EXISTS ("hybrid_migrate"|[a-z_]+ ON "hybrid_migrate")|CREATE TEMP TABLE IF NOT EXISTS "hm_stage_[0-9a-f]{16}"|ALTER TABLE "hybrid_migrate"\.|COMMENT ON [A-Z]+ "hybrid_migrate")/.test(s))).toEqual([]);
    // Outside quotes, no statement holds a DROP, a TRUNCATE, or any part of the hostile names.
    for (const s of statements) {
      const sql = unquotedSql(s);
      expect(sql, s).not.toMatch(/\b(DROP|TRUNCATE)\b/i);
      for (const fragment of ['DROP TABLE y', 'legacy.products', 'décisions', '__proto__']) expect(sql, s).not.toContain(fragment);
    }
  });
});
