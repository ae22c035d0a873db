/**
 * `plan` on the legacy fixtures, through the real binary: every variation it reports is
 * cross-checked against direct queries, its prediction of rejects, orphans and coercions is
 * compared with what `migrate` then really does, it writes nothing to PostgreSQL, and its exit
 * codes are 0 / 1 / 3. The drift detector is run on the plan after the source changed.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectId, type Document } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { REPO_ROOT, runMigrate, shippedMapping } from '../support/migration.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { generateFixtures, type FixtureReport } from '../../dev/fixtures/generate.js';
import { COLLECTIONS } from '../../dev/fixtures/variations.js';
import type { PlanReport } from '../../src/use-cases/plan/plan.js';
import { createDriftDetector, loadLatestPlan } from '../../src/pipeline/drift-check.js';
import { normalizePath } from '../../src/core/plan-findings.js';
import { readBatches } from '../../src/source/mongo-source.js';

const SCALE = 1000;
const SEED = 5;

const t = useTestDatabases();
let env: { MONGO_URI: string; DATABASE_URL: string };
let fixtures: FixtureReport;
let plan: PlanReport;
let planCode: number | null;
let outDir: string;

beforeAll(async () => {
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  fixtures = await generateFixtures({ db: t.db, scale: SCALE, seed: SEED, realMongo: t.isRealMongo });
  outDir = mkdtempSync(join(tmpdir(), 'hm-plan-'));
  const r = await runCli(['plan', '--json', '--out', outDir], env);
  planCode = r.code;
  if (r.code !== 1) throw new Error(`plan exited ${r.code}: ${r.stderr}`);
  plan = JSON.parse(r.stdout) as PlanReport;
}, 600_000);

const coll = (name: string) => {
  const c = plan.collections.find((x) => x.name === name);
  if (!c) throw new Error(`no ${name} in the plan`);
  return c;
};
const typeCount = (name: string, path: string, type: string) => coll(name).histogram.paths[path]?.types[type] ?? 0;

describe('plan on the legacy fixtures', () => {
  it('exits 1 (documents would be rejected), scans every document of every collection, and writes the plan files', async () => {
    expect(planCode).toBe(1);
    expect(plan.scan).toEqual({ kind: 'full' });
    expect(plan.loadOrder).toEqual([...(await shippedMapping()).loadOrder]);
    expect(plan.loadOrder.indexOf('users')).toBeLessThan(plan.loadOrder.indexOf('orders'));
    expect(plan.deferred).toEqual([{ collection: 'workspaces', field: 'ownerId', targetCollection: 'users' }]);
    for (const name of COLLECTIONS) {
      const n = await t.db.collection(name).countDocuments();
      expect(coll(name).scanned, name).toBe(n);
      expect(coll(name).histogram.documents, name).toBe(n);
      expect(coll(name).documents, name).toBe(n);
      expect(n, name).toBe(fixtures.counts[name]);
    }
    const files = readdirSync(outDir);
    expect(files).toContain('plan-latest.json');
    expect(files.filter((f) => /^plan-\d{4}-\d\d-\d\dT[\d-]+Z\.json$/.test(f))).toHaveLength(1);
    const text = readFileSync(join(outDir, 'plan-latest.json'), 'utf8');
    expect(JSON.parse(text)).toEqual(plan);
    // Never a connection string or a password.
    expect(text).not.toContain(t.databaseUrl);
    expect(text).not.toMatch(/mongodb(\+srv)?:\/\/|postgres(ql)?:\/\//);
  });

  it('prints a readable report: per collection fields, types, rejects, duplicates, orphans, coercions, unmapped fields', async () => {
    const r = await runCli(['plan', 'workspaces', 'users', 'clients', '--out', outDir], env);
    expect(r.code, r.stderr).toBe(1);
    if (process.env.HM_PLAN_DUMP) writeFileSync(process.env.HM_PLAN_DUMP, r.stdout);
    expect(r.stdout).toMatch(/^Load order: workspaces → users → clients$/m);
    expect(r.stdout).toMatch(/^Cycle broken: workspaces\.ownerId → users is written in a second pass/m);
    expect(r.stdout).toMatch(/^Earlier runs: none \(no hybrid_migrate schema in the target\)$/m);
    expect(r.stdout).toMatch(/Duplicates of unique \(workspaceId,phone\) of Client: \d+ document\(s\) refused e\.g\. oid:/);
    expect(r.stdout).toMatch(/^ {4}address +object [\d,]+.*, string [\d,]+/m);
    expect(r.stdout).toMatch(/^ {4}legacyCode: \d+ document\(s\), kept in legacyExtra/m);
    expect(r.stdout).toMatch(/^Verdict: \d+ document\(s\) would be rejected/m);
    expect(r.stderr).toMatch(/plan: scanned/);
  });

  it('wrote nothing to PostgreSQL: no hybrid_migrate schema, every table empty', async () => {
    const schema = await t.pg.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'hybrid_migrate'`);
    expect(schema.rows).toEqual([]);
    const tables = await t.pg.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`);
    expect(tables.rows.length).toBeGreaterThan(5);
    for (const { table_name } of tables.rows) {
      const r = await t.pg.query(`SELECT count(*)::int AS n FROM "${table_name}"`);
      expect(r.rows[0], table_name).toEqual({ n: 0 });
    }
  });

  it('counts every BSON type of a field exactly as a $type query does', async () => {
    const checks: [string, string, string][] = [
      ['products', 'sellingPrice', 'string'],
      ['products', 'sellingPrice', 'int'],
      ['products', 'sellingPrice', 'double'],
      ['products', 'sellingPrice', 'long'],
      ['products', 'stock', 'long'],
      ['products', 'createdBy', 'string'],
      ['products', 'createdBy', 'objectId'],
      ['clients', 'address', 'string'],
      ['clients', 'address', 'object'],
      ['clients', 'tags', 'string'],
      ['clients', 'phone', 'string'],
      ['clients', 'email', 'null'],
      ['orders', 'clientId', 'string'],
      ['orders', 'delivery', 'null'],
      ['orders', 'quantity', 'string'],
      ['transactions', 'amount', 'string'],
      ['transactions', 'date', 'string'],
      ['transactions', 'date', 'date'],
      ['users', 'lastLoginAt', 'null'],
      ['users', 'lastLoginAt', 'double'],
      ['users', 'lastLoginAt', 'long'],
      ['reports', 'adSpend', 'string'],
      ['goals', 'targetRevenue', 'string'],
    ];
    for (const [name, path, type] of checks) {
      // $type matches an array holding such an element too: arrays are excluded to count the field's own type.
      const n = await t.db.collection(name).countDocuments({ [path]: { $type: type, ...(type === 'array' ? {} : { $not: { $type: 'array' } }) } });
      expect(typeCount(name, path, type), `${name}.${path} ${type}`).toBe(n);
    }
    expect(typeCount('products', 'sellingPrice', 'string')).toBeGreaterThan(0);
  });

  it('finds the missing and empty fields, the drift fields and the long arrays and texts of the fixture report', async () => {
    let missingUpdatedAt = 0;
    for (const name of COLLECTIONS) {
      const direct = await t.db.collection(name).countDocuments({ updatedAt: { $exists: false } });
      const h = coll(name).histogram.paths.updatedAt;
      expect(h?.missing ?? 0, name).toBe(direct);
      missingUpdatedAt += direct;
    }
    expect(missingUpdatedAt).toBe(fixtures.variations['date.updatedAt.missing']);
    expect(coll('orders').histogram.paths.clientName?.missing).toBe(fixtures.variations['order.clientName.missing']);
    expect(coll('clients').histogram.paths.phone?.missing).toBe(fixtures.variations['client.phone.missing']);
    expect(typeCount('clients', 'address', 'string')).toBe(fixtures.variations['drift.type.address-string']);
    expect(typeCount('clients', 'tags', 'string')).toBe(fixtures.variations['drift.type.tags-string']);
    const unmapped = (path: string) => plan.collections.reduce((n, c) => n + (c.unmapped.find((u) => u.path === path)?.count ?? 0), 0);
    expect(unmapped('legacyCode')).toBe(fixtures.variations['drift.legacyCode']);
    expect(unmapped('fbLeadId')).toBe(fixtures.variations['drift.fbLeadId']);
    expect(plan.collections.flatMap((c) => c.unmapped.filter((u) => u.path === 'legacyCode').map((u) => u.destination))).toEqual(expect.arrayContaining(['legacyExtra']));
    expect(unmapped('__v')).toBe(fixtures.variations['drift.__v']);
    expect(plan.collections.every((c) => c.unmapped.filter((u) => u.path === '__v').every((u) => u.destination === 'ignored'))).toBe(true);
    expect(coll('orders').histogram.paths.statusHistory?.maxArrayLength).toBeGreaterThanOrEqual(200);
    let longest = 0;
    for (const o of await t.db.collection('orders').find({ notes: { $type: 'string' } }, { projection: { notes: 1 } }).toArray()) longest = Math.max(longest, [...(o.notes as string)].length);
    expect(coll('orders').histogram.paths.notes?.maxStringLength).toBe(longest);
    expect(longest).toBeGreaterThan(10_000_000);
    expect(coll('orders').histogram.paths['items[].unitPrice']?.types.string).toBeGreaterThan(0);
    // Old and new order shapes: single-product fields and items arrays side by side.
    expect(coll('orders').histogram.paths.product?.count).toBeGreaterThan(0);
    expect(coll('orders').histogram.paths.items?.types.array).toBeGreaterThan(0);
  });

  it('counts unique-key duplicates exactly (clients workspaceId+phone, users workspaceId+email)', async () => {
    const dupCount = async (name: string, field: string) => {
      const seen = new Set<string>();
      let dups = 0;
      for (const d of await t.db.collection(name).find({}, { sort: { _id: 1 }, projection: { workspaceId: 1, [field]: 1 } }).toArray()) {
        const v = d[field] as unknown;
        if (typeof v !== 'string') continue;
        const key = `${String(d.workspaceId)}|${v}`;
        if (seen.has(key)) dups++;
        else seen.add(key);
      }
      return dups;
    };
    const clientsDup = coll('clients').duplicates.find((d) => d.fields === 'workspaceId,phone');
    const usersDup = coll('users').duplicates.find((d) => d.fields === 'workspaceId,email');
    expect(clientsDup?.count).toBe(await dupCount('clients', 'phone'));
    expect(usersDup?.count).toBe(await dupCount('users', 'email'));
    expect(usersDup?.count).toBe(fixtures.variations['dup.user.email']);
    expect(clientsDup?.count).toBeGreaterThanOrEqual(fixtures.variations['dup.client.phone'] ?? 0);
    expect(clientsDup?.samples[0]?.id).toMatch(/^oid:[0-9a-f]{24}$/);
  });

  it('counts references to documents missing from the source per field', async () => {
    const clientIds = new Set((await t.db.collection('clients').find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id)));
    const dangling = await t.db.collection('orders').countDocuments({ clientId: { $exists: true, $ne: null } }).then(async () => {
      let n = 0;
      for (const o of await t.db.collection('orders').find({ clientId: { $ne: null } }, { projection: { clientId: 1 } }).toArray()) if (o.clientId && !clientIds.has(String(o.clientId))) n++;
      return n;
    });
    expect(dangling).toBe(fixtures.variations['ref.dangling.client']);
    const orphans = coll('orders').orphans.find((o) => o.field === 'orders.clientId');
    // Every dangling reference, plus references to clients the plan predicts rejected (duplicates).
    expect(orphans?.count).toBeGreaterThanOrEqual(dangling);
    expect(orphans?.policy).toBe('keep');
  });

  it('lists every coercion kind with counts and sample ids, and every model field with its source', () => {
    const kinds = new Set(plan.collections.flatMap((c) => c.coercions.map((k) => k.coercion)));
    for (const k of ['number-from-string', 'date-from-iso-string', 'date-from-epoch-ms', 'reference-from-hex-string']) expect(kinds, k).toContain(k);
    for (const c of plan.collections) for (const k of c.coercions) expect(k.sampleIds.length).toBeGreaterThan(0);
    const owner = coll('workspaces').fields.find((f) => f.field === 'ownerId');
    expect(owner?.source).toMatch(/owner → users \(second pass/);
    const clientName = coll('orders').fields.find((f) => f.field === 'clientName');
    expect(clientName?.missing).toBe(fixtures.variations['order.clientName.missing']);
    expect(coll('orders').children.map((c) => c.model)).toEqual(['OrderItem', 'OrderStatusHistory']);
    expect(plan.estimate.totalMs).toBeGreaterThan(0);
    expect(plan.earlierRuns).toEqual({ stateSchema: false, lastRun: null, collections: {} });
  });

  it('predicts exactly what migrate then rejects (per field path), orphans and coerces', async () => {
    const result = await runMigrate(t.db, t.pg);
    for (const c of result.collections) {
      const p = coll(c.name);
      const rows = await t.pg.query<{ field_path: string }>(`SELECT field_path FROM hybrid_migrate.rejects WHERE collection = $1`, [c.name]);
      const actual: Record<string, number> = {};
      for (const r of rows.rows) actual[normalizePath(r.field_path)] = (actual[normalizePath(r.field_path)] ?? 0) + 1;
      const predicted: Record<string, number> = {};
      for (const f of p.rejects.byPath) predicted[f.path] = (predicted[f.path] ?? 0) + f.count;
      expect(predicted, `${c.name} rejects per field`).toEqual(actual);
      expect(p.rejects.documents, c.name).toBe(c.rejected);
      expect(p.wouldWrite, c.name).toBe(c.migrated);
      const orphans = Object.fromEntries(p.orphans.filter((o) => !o.deferred).map((o) => [o.field, o.count]));
      expect(orphans, `${c.name} orphans`).toEqual(c.orphans);
      const coercions = Object.fromEntries(p.coercions.map((k) => [`${k.field}:${k.coercion}`, k.count]));
      expect(coercions, `${c.name} coercions`).toEqual(c.coercions);
    }
    expect(plan.summary.wouldReject).toBeGreaterThan(0);
  });

  it('reports the earlier run afterwards, still writing nothing', async () => {
    const before = await t.pg.query(`SELECT (SELECT count(*) FROM hybrid_migrate.runs) AS runs, (SELECT count(*) FROM hybrid_migrate.checkpoints) AS cps`);
    const r = await runCli(['plan', 'workspaces', 'users', '--json', '--out', outDir], env);
    expect(r.code, r.stderr).toBe(1);
    const again = JSON.parse(r.stdout) as PlanReport;
    expect(again.earlierRuns.stateSchema).toBe(true);
    expect(again.earlierRuns.lastRun?.command).toBe('migrate');
    expect(again.collections[0]?.history?.written).toBe(await t.pg.query(`SELECT count(*)::int AS n FROM workspaces`).then((x) => x.rows[0].n));
    expect(again.collections[1]?.history?.rejectsRecorded).toBe(coll('users').rejects.documents);
    const after = await t.pg.query(`SELECT (SELECT count(*) FROM hybrid_migrate.runs) AS runs, (SELECT count(*) FROM hybrid_migrate.checkpoints) AS cps`);
    expect(after.rows).toEqual(before.rows);
  });

  it('gives a drift warning for a field and a type added after the plan', async () => {
    const latest = await loadLatestPlan(outDir);
    expect(latest).toBeDefined();
    // The original plan (the second run above replaced plan-latest.json with a plan of two collections).
    const detector = createDriftDetector(plan, 'products');
    const clean = createDriftDetector(plan, 'products');
    for await (const batch of readBatches(t.db, 'products', {}, 500)) for (const d of batch) clean.observe(d);
    expect(clean.warnings()).toEqual([]);
    const id = new ObjectId();
    await t.db.collection('products').insertOne({ _id: id, workspaceId: new ObjectId(), name: 'New', promoCode: 'SUMMER', stock: true });
    for await (const batch of readBatches(t.db, 'products', {}, 500)) for (const d of batch as Document[]) detector.observe(d);
    const w = detector.warnings();
    expect(w).toContainEqual(expect.stringMatching(new RegExp(`^products\\.promoCode: field not seen by the plan of .*: 1 occurrence\\(s\\), first in oid:${id.toHexString()}$`)));
    expect(w).toContainEqual(expect.stringMatching(/^products\.stock: bool values, the plan of .* saw only /));
    expect(w).toHaveLength(2);
  });
});

describe('plan exit codes', () => {
  it('exits 0 when migrate would write everything without rejects (and --sample says how it sampled)', async () => {
    const db = await createTestDatabases();
    try {
      await insertSimpleOrders(db.db, 300);
      const e = { MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl };
      const out = mkdtempSync(join(tmpdir(), 'hm-plan-'));
      const r = await runCli(['plan', 'workspaces', 'orders', '--out', out], e);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Verdict: migrate would succeed without rejects/);
      expect(r.stdout).toMatch(/Load order: workspaces → orders/);
      expect(r.stdout).toMatch(/items\[\]\.unitPrice/);
      const s = await runCli(['plan', 'workspaces', 'orders', '--sample', '100', '--json', '--out', out], e);
      expect(s.code, s.stderr).toBe(0);
      const sampled = JSON.parse(s.stdout) as PlanReport;
      expect(sampled.scan).toMatchObject({ kind: 'sample', size: 100, method: db.isRealMongo ? '$sample' : 'first-by-id' });
      expect(sampled.collections.map((c) => c.scanned)).toEqual([1, 100]);
    } finally {
      await db.drop();
    }
  });

  it('exits 1 when fields would be lost (no extra column), and --strict when they only reach the extra JSON', async () => {
    const db = await createTestDatabases();
    try {
      await insertSimpleOrders(db.db, 50);
      await db.db.collection('orders').updateMany({}, { $set: { legacyCode: 'X1' } });
      const e = { MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl };
      const dir = mkdtempSync(join(tmpdir(), 'hm-plan-config-'));
      const config = (extra: boolean) =>
        `export default { schema: ${JSON.stringify(join(REPO_ROOT, 'prisma/schema.prisma'))}, collections: { workspaces: { model: 'Workspace' }, orders: { model: 'Order', ${extra ? '' : 'extraField: false, '}children: [{ model: 'OrderItem', from: 'items' }, { model: 'OrderStatusHistory', from: 'statusHistory' }] } } };\n`;
      writeFileSync(join(dir, 'lost.config.mjs'), config(false));
      writeFileSync(join(dir, 'kept.config.mjs'), config(true));
      const lost = await runCli(['--config', join(dir, 'lost.config.mjs'), 'plan', '--json'], e);
      expect(lost.code, lost.stderr).toBe(1);
      const report = JSON.parse(lost.stdout) as PlanReport;
      expect(report.collections[1]?.lostFields).toEqual(['legacyCode']);
      expect(report.summary.problems.join(' ')).toMatch(/would be lost/);
      // Default location: migrations-state/ next to the configuration file.
      expect(existsSync(join(dir, 'migrations-state', 'plan-latest.json'))).toBe(true);
      const kept = await runCli(['--config', join(dir, 'kept.config.mjs'), 'plan'], e);
      expect(kept.code, kept.stderr).toBe(0);
      expect(kept.stdout).toMatch(/legacyCode: 50 document\(s\), kept in legacyExtra/);
      const strict = await runCli(['--config', join(dir, 'kept.config.mjs'), 'plan', '--strict'], e);
      expect(strict.code, strict.stderr).toBe(1);
      expect(strict.stdout).toMatch(/--strict: 1 source field/);
    } finally {
      await db.drop();
    }
  });

  it('exits 3 on a configuration error, before connecting, and writes no plan file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-plan-bad-'));
    writeFileSync(join(dir, 'bad.config.mjs'), `export default { schema: ${JSON.stringify(join(REPO_ROOT, 'prisma/schema.prisma'))}, collections: { orders: { model: 'NoSuchModel' } } };\n`);
    const r = await runCli(['--config', join(dir, 'bad.config.mjs'), 'plan', '--out', dir], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/NoSuchModel/);
    expect(readdirSync(dir)).toEqual(['bad.config.mjs']);
  });
});
