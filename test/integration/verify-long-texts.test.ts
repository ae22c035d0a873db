/**
 * Text values over a megabyte are compared by digest, computed in PostgreSQL, instead of being
 * read back: equal ones agree (multi-byte characters included), a changed one is found and
 * reported by its length and digest, never by megabytes of text in the output.
 */
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli, type CliEnv } from '../support/cli.js';
import { simpleOrder } from '../support/simple-orders.js';
import { recordAsMigrationWrote } from '../support/migration.js';
import { objectIdToUuid } from '../../src/core/ids.js';

const t = useTestDatabases();
let env: CliEnv;
const ws = new ObjectId();
const ids = [new ObjectId(), new ObjectId(), new ObjectId(), new ObjectId()];
// 2 MB of ASCII, 1.5 MB of two-byte characters, one just under the threshold, one short.
const notes = ['a'.repeat(2 * 1024 * 1024), 'é'.repeat(768 * 1024) + 'x', 'b'.repeat(1024 * 1024 - 1), 'short'];

beforeAll(async () => {
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  await t.db.collection('workspaces').insertOne({ _id: ws, name: 'Shop', slug: 'shop', currency: 'XOF', createdAt: new Date('2020-01-01T00:00:00Z') });
  await t.db.collection('orders').insertMany(ids.map((id, j) => ({ ...simpleOrder(id, ws, j), notes: notes[j] })));
  const r = await runCli(['migrate', 'workspaces', 'orders'], env);
  expect(r.code, r.stderr).toBe(0);
});

describe('long text values', () => {
  it('agree by digest when equal, and a changed one is reported by length and digest', async () => {
    const clean = await runCli(['verify', 'orders', '--json', '--no-report'], env);
    expect(clean.code, clean.stdout.slice(0, 2000)).toBe(0);
    expect(JSON.parse(clean.stdout).collections[0]).toMatchObject({ checked: 4, mismatched: 0 });

    // The same length, one character changed in the middle: only a comparison of the whole value finds it.
    await t.pg.query(`UPDATE orders SET notes = overlay(notes placing 'Z' from 1000000 for 1) WHERE id = $1`, [objectIdToUuid(ids[0] as ObjectId)]);
    await t.pg.query(`UPDATE orders SET notes = notes || '!!' WHERE id = $1`, [objectIdToUuid(ids[2] as ObjectId)]);
    // As if the migration had written them so (a defect, not the application's change).
    await recordAsMigrationWrote(t.pg, ['orders']);
    const dirty = await runCli(['verify', 'orders', '--json', '--no-report'], env);
    expect(dirty.code).toBe(1);
    expect(dirty.stdout.length).toBeLessThan(256 * 1024);
    const c = JSON.parse(dirty.stdout).collections[0];
    expect(c).toMatchObject({ checked: 4, mismatched: 2 });
    const byId = new Map((c.mismatches as { uuid: string; field: string; source: string; target: string }[]).map((m) => [m.uuid, m]));
    const first = byId.get(objectIdToUuid(ids[0] as ObjectId));
    expect(first).toMatchObject({ field: 'notes', source: expect.stringMatching(/^\(2097152 bytes of text, sha256 [0-9a-f]{64}\)$/), target: expect.stringMatching(/^\(2097152 bytes of text, sha256 [0-9a-f]{64}\)$/) });
    expect(first?.source).not.toBe(first?.target);
    // Just under the threshold in MongoDB, just over it in PostgreSQL now: compared by digest all the same.
    expect(byId.get(objectIdToUuid(ids[2] as ObjectId))).toMatchObject({ field: 'notes', source: expect.stringMatching(/^\(1048575 bytes of text/), target: expect.stringMatching(/^\(1048577 bytes of text/) });
  });
});
