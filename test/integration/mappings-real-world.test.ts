/**
 * Issue 18, real-world mappings, end to end through the compiled CLI: the public MongoDB
 * sample data sets (movies + comments, theaters, bank customers + accounts) mapped into a
 * second Prisma schema (test/support/real-world), on the real servers.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { REPO_ROOT } from '../support/migration.js';
import { idToUuid, objectIdToUuid } from '../../src/core/ids.js';

const t = useTestDatabases();
const SCHEMA = join(REPO_ROOT, 'test/support/real-world/schema.prisma');
let env: { MONGO_URI: string; DATABASE_URL: string };
let dir: string;

/** Writes a configuration file for the real-world schema and returns its path. */
function config(name: string, collections: Record<string, unknown>): string {
  const file = join(dir, `${name}.config.mjs`);
  writeFileSync(file, `export default ${JSON.stringify({ schema: SCHEMA, collections })};\n`);
  return file;
}

beforeAll(async () => {
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  await t.pg.query(readFileSync(join(REPO_ROOT, 'test/support/real-world/migration.sql'), 'utf8'));
  dir = mkdtempSync(join(tmpdir(), 'hm-real-world-'));
});

describe('array positions and arrays of plain values', () => {
  it('GeoJSON coordinates go to two columns, keywords to child rows, genres to a scalar list', async () => {
    const theater = new ObjectId();
    const movie = new ObjectId();
    await t.db.collection('theaters').insertOne({ _id: theater, theaterId: 1000, location: { geo: { type: 'Point', coordinates: [-93.24565, 44.85466] } } });
    await t.db.collection('movies').insertOne({ _id: movie, title: 'Blacksmith Scene', genres: ['Short'], keywords: ['smith', 'anvil'] });
    const file = config('arrays', {
      theaters: { model: 'Theater', fields: { longitude: 'location.geo.coordinates.0', latitude: 'location.geo.coordinates.1' } },
      movies: { model: 'Movie', children: [{ model: 'Tag', from: 'keywords' }] },
    });
    const r = await runCli(['--config', file, 'migrate', '--json'], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const th = await t.pg.query(`SELECT longitude, latitude FROM rw_theaters WHERE id = $1`, [objectIdToUuid(theater)]);
    expect(th.rows).toEqual([{ longitude: -93.24565, latitude: 44.85466 }]);
    const tags = await t.pg.query(`SELECT position, value FROM rw_movie_tags WHERE "movieId" = $1 ORDER BY position`, [objectIdToUuid(movie)]);
    expect(tags.rows).toEqual([{ position: 0, value: 'smith' }, { position: 1, value: 'anvil' }]);
    const m = await t.pg.query(`SELECT genres FROM rw_movies WHERE id = $1`, [objectIdToUuid(movie)]);
    expect(m.rows).toEqual([{ genres: ['Short'] }]);
  });
});

describe('references stored as hex strings to string _ids (item 5)', () => {
  it('resolve to the document whose _id is that string: no orphan, in plan or migrate', async () => {
    const hex = '5a9427648b0beebeb69579e7';
    const comment = new ObjectId();
    await t.db.collection<{ _id: string }>('users').insertOne({ _id: hex, name: 'Ned Stark', email: 'sean_bean@gameofthron.es' });
    await t.db.collection('comments').insertOne({ _id: comment, text: 'Winter is coming', userId: hex });
    const file = config('hex', { users: { model: 'User' }, comments: { model: 'Comment', fields: { userId: { onMissingReference: 'reject' } } } });
    const plan = await runCli(['--config', file, 'plan', '--json'], env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).not.toMatch(/which does not exist/);
    const r = await runCli(['--config', file, 'migrate', '--json'], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const row = await t.pg.query(`SELECT "userId" AS user FROM rw_comments WHERE id = $1`, [objectIdToUuid(comment)]);
    expect(row.rows).toEqual([{ user: idToUuid('users', hex) }]);
  });
});
