/**
 * Issue 18, item 1: a `by:` business key that is not unique in the WHOLE referenced collection
 * (not only among the values referenced today) is reported by plan with samples, as a
 * configuration error (exit 3) unless the reference accepts it (`duplicateKeys: 'unresolved'`).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { REPO_ROOT } from '../support/migration.js';

const t = useTestDatabases();
const SCHEMA = join(REPO_ROOT, 'test/support/real-world/schema.prisma');
let env: { MONGO_URI: string; DATABASE_URL: string };
let dir: string;
const twinA = new ObjectId();
const twinB = new ObjectId();

function config(name: string, userId: Record<string, unknown>): string {
  const file = join(dir, `${name}.config.mjs`);
  const collections = { users: { model: 'User' }, comments: { model: 'Comment', fields: { userId } } };
  writeFileSync(file, `export default ${JSON.stringify({ schema: SCHEMA, collections })};\n`);
  return file;
}

beforeAll(async () => {
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  await t.pg.query(readFileSync(join(REPO_ROOT, 'test/support/real-world/migration.sql'), 'utf8'));
  dir = mkdtempSync(join(tmpdir(), 'hm-plan-keys-'));
  await t.db.collection('users').insertMany([
    { name: 'Ned Stark', email: 'sean_bean@gameofthron.es' },
    { _id: twinA, name: 'Twin A', email: 'twin@example.org' },
    { _id: twinB, name: 'Twin B', email: 'twin@example.org' },
  ]);
  // Every comment references a unique e-mail: the duplicate is only in the referenced collection.
  await t.db.collection('comments').insertOne({ text: 'Winter is coming', email: 'sean_bean@gameofthron.es' });
});

interface KeyFinding {
  fields: string[];
  target: string;
  by: string;
  duplicateValues: number;
  documents: number;
  samples: { value: string; ids: string[] }[];
  policy: string;
  complete: boolean;
}

describe('plan: a by key that is not unique in the referenced collection', () => {
  it('is a configuration error (exit 3) with samples, although no referenced value is ambiguous today', async () => {
    const file = config('strict', { from: 'email', references: 'users', by: 'email' });
    const r = await runCli(['--config', file, 'plan', '--json', '--out', dir], env);
    expect(r.code, r.stderr).toBe(3);
    const report = JSON.parse(r.stdout) as { businessKeys: KeyFinding[]; summary: { exitCode: number; problems: string[] } };
    expect(report.businessKeys).toEqual([
      {
        fields: ['comments.email'],
        target: 'users',
        by: 'email',
        duplicateValues: 1,
        documents: 2,
        samples: [{ value: '"twin@example.org"', ids: [`oid:${twinA.toHexString()}`, `oid:${twinB.toHexString()}`] }],
        policy: 'error',
        complete: true,
      },
    ]);
    expect(report.summary.problems.join('\n')).toContain(`"by: 'email'" is not unique in users`);
    const human = await runCli(['--config', file, 'plan', '--out', dir], env);
    expect(human.code).toBe(3);
    expect(human.stdout).toContain(`Configuration error: "by: 'email'" is not unique in users: 1 value(s) held by 2 documents`);
    expect(human.stdout).toContain(`"twin@example.org": oid:${twinA.toHexString()}, oid:${twinB.toHexString()}`);
    expect(human.stdout).toContain("duplicateKeys: 'unresolved'");
  });

  it('is accepted, and still listed, once the reference picks the policy', async () => {
    const file = config('accepted', { from: 'email', references: 'users', by: 'email', duplicateKeys: 'unresolved' });
    const r = await runCli(['--config', file, 'plan', '--json', '--out', dir], env);
    // No configuration error (exit 3); the data's own findings (exit 1) are another matter.
    expect([0, 1], r.stderr).toContain(r.code);
    const report = JSON.parse(r.stdout) as { businessKeys: KeyFinding[]; summary: { exitCode: number; problems: string[] } };
    expect(report.businessKeys).toMatchObject([{ by: 'email', policy: 'unresolved', duplicateValues: 1 }]);
    expect(report.summary.exitCode).not.toBe(3);
    expect(report.summary.problems.join('\n')).not.toContain('is not unique');
  });

  it('refuses duplicateKeys without by (exit 3)', async () => {
    const file = config('no-by', { from: 'email', references: 'users', duplicateKeys: 'unresolved' });
    const r = await runCli(['--config', file, 'plan', '--out', dir], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('duplicateKeys');
  });
});
