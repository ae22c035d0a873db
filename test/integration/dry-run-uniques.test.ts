/**
 * `migrate --dry-run` predicts what `migrate` then does, exactly as `plan` does: documents
 * PostgreSQL would refuse for a duplicate unique key (clients (workspaceId, phone), users
 * (workspaceId, email)), references that dangle because their document would be refused,
 * and references to documents whose `_id` is a string. Three runs of the real binary on the
 * same source: plan, migrate --dry-run, migrate; their counts per field must be equal, and
 * equal to what hybrid_migrate.rejects records.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import type { PlanReport } from '../../src/use-cases/plan/plan.js';

const t = useTestDatabases();

const ws = new ObjectId('5f1d7a3b2c4e5f6a7b8c9e01');
const owner = new ObjectId('5f1d7a3b2c4e5f6a7b8c9e02');
const c = (n: number) => new ObjectId(`5f1d7a3b2c4e5f6a7b8ca0${n.toString(16).padStart(2, '0')}`);
const o = (n: number) => new ObjectId(`5f1d7a3b2c4e5f6a7b8cb0${n.toString(16).padStart(2, '0')}`);
const at = new Date('2021-01-01T00:00:00Z');

interface RunCollection {
  name: string;
  read: number;
  migrated: number;
  rejected: number;
  rejectsByField: Record<string, number>;
  orphans: Record<string, number>;
}

let plan: PlanReport;
let dryRun: RunCollection[];
let real: RunCollection[];
let recorded: Record<string, Record<string, number>>;

beforeAll(async () => {
  const env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  await t.db.collection('workspaces').insertOne({ _id: ws, name: 'Boutique', slug: 'boutique', currency: 'XOF', owner, createdAt: at });
  await t.db.collection('users').insertMany([
    { _id: owner, workspaceId: ws, email: 'awa@boutique.sn', name: 'Awa', role: 'admin', createdAt: at },
    // Same (workspaceId, email): PostgreSQL refuses the second in _id order.
    { _id: new ObjectId('5f1d7a3b2c4e5f6a7b8c9e03'), workspaceId: ws, email: 'awa@boutique.sn', name: 'Doublon', role: 'closer', createdAt: at },
  ]);
  await t.db.collection('clients').insertMany([
    // Rejected by the conversion (no name): its phone is not taken.
    { _id: c(1), workspaceId: ws, phone: '+221770000001', createdAt: at },
    { _id: c(2), workspaceId: ws, name: 'Premier', phone: '+221770000001', createdAt: at },
    { _id: c(3), workspaceId: ws, name: 'Doublon 1', phone: '+221770000001', createdAt: at },
    { _id: c(4), workspaceId: ws, name: 'Autre', phone: '+221770000002', createdAt: at },
    { _id: c(5), workspaceId: ws, name: 'Doublon 2', phone: '+221770000002', createdAt: at },
    { _id: c(6), workspaceId: ws, name: 'Doublon 3', phone: '+221770000001', createdAt: at },
    // NULLs are distinct in a unique constraint: none of these is refused.
    { _id: c(7), workspaceId: ws, name: 'Sans téléphone 1', phone: null, createdAt: at },
    { _id: c(8), workspaceId: ws, name: 'Sans téléphone 2', createdAt: at },
    // A client whose _id is a string, referenced by an order below.
    { _id: 'legacy-client-7' as unknown as ObjectId, workspaceId: ws, name: 'Ancien', phone: '+221770000009', createdAt: at },
  ]);
  await t.db.collection('orders').insertMany([
    { _id: o(1), workspaceId: ws, clientId: c(2), status: 'pending', createdAt: at },
    // References a client PostgreSQL refuses (duplicate phone): it dangles (policy keep).
    { _id: o(2), workspaceId: ws, clientId: c(3), status: 'pending', createdAt: at },
    // References the client rejected by the conversion: it dangles too.
    { _id: o(3), workspaceId: ws, clientId: c(1), status: 'pending', createdAt: at },
    // References the client whose _id is a string: it resolves.
    { _id: o(4), workspaceId: ws, clientId: 'legacy-client-7', status: 'pending', createdAt: at },
    // As a hex string: resolves to c(4).
    { _id: o(5), workspaceId: ws, clientId: c(4).toHexString(), status: 'pending', createdAt: at },
  ]);
  const names = ['workspaces', 'users', 'clients', 'orders'];
  const out = mkdtempSync(join(tmpdir(), 'hm-dry-uniques-'));
  const p = await runCli(['plan', ...names, '--json', '--out', out, '--batch-size', '2'], env);
  if (p.code !== 1) throw new Error(`plan exited ${p.code}: ${p.stderr}`);
  plan = JSON.parse(p.stdout) as PlanReport;
  const d = await runCli(['migrate', ...names, '--dry-run', '--json', '--batch-size', '2', '--plan', join(out, 'plan-latest.json')], env);
  if (d.code !== 0) throw new Error(`migrate --dry-run exited ${d.code}: ${d.stderr}`);
  dryRun = (JSON.parse(d.stdout) as { collections: RunCollection[] }).collections;
  const m = await runCli(['migrate', ...names, '--json', '--batch-size', '2', '--plan', join(out, 'plan-latest.json')], env);
  if (m.code !== 0) throw new Error(`migrate exited ${m.code}: ${m.stderr}`);
  real = (JSON.parse(m.stdout) as { collections: RunCollection[] }).collections;
  const r = await t.pg.query<{ collection: string; field_path: string; n: number }>(
    `SELECT collection, field_path, count(*)::int AS n FROM hybrid_migrate.rejects GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  recorded = {};
  for (const row of r.rows) (recorded[row.collection] ??= {})[row.field_path] = row.n;
}, 300_000);

const of = (list: RunCollection[], name: string): RunCollection => {
  const found = list.find((x) => x.name === name);
  if (!found) throw new Error(`no ${name}`);
  return found;
};

function planRejectsByField(name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of plan.collections.find((x) => x.name === name)?.rejects.byPath ?? []) out[r.path] = (out[r.path] ?? 0) + r.count;
  return out;
}

function planOrphans(name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of plan.collections.find((x) => x.name === name)?.orphans ?? []) if (!r.deferred) out[r.field] = (out[r.field] ?? 0) + r.count;
  return out;
}

describe('migrate --dry-run predicts unique-key refusals as plan does and migrate then makes', () => {
  it('migrate records the refusals the source holds', () => {
    expect(recorded).toEqual({ clients: { 'workspaceId,phone': 3, name: 1 }, users: { 'workspaceId,email': 1 } });
    expect(of(real, 'clients')).toMatchObject({ read: 9, migrated: 5, rejected: 4 });
  });

  for (const name of ['users', 'clients', 'orders']) {
    it(`${name}: dry run = plan = migrate (rejected, per field, orphans)`, () => {
      const predicted = of(dryRun, name);
      const done = of(real, name);
      expect(predicted.rejectsByField).toEqual(done.rejectsByField);
      expect(predicted.rejectsByField).toEqual(planRejectsByField(name));
      expect(predicted.rejectsByField).toEqual(recorded[name] ?? {});
      expect(predicted.rejected).toBe(done.rejected);
      expect(predicted.rejected).toBe(plan.collections.find((x) => x.name === name)?.rejects.documents);
      expect(predicted.migrated).toBe(done.migrated);
      expect(predicted.orphans).toEqual(done.orphans);
      expect(predicted.orphans).toEqual(planOrphans(name));
    });
  }

  it('orders: references to refused clients dangle; a string _id and a hex string resolve', () => {
    expect(of(real, 'orders').orphans).toEqual({ 'orders.clientId': 2 });
  });
});
