/**
 * Per-test-file databases on real servers. Every integration test file gets its own PostgreSQL
 * database (cloned from the migrated template, so the Prisma schema is there) and its own
 * MongoDB database name; both are dropped after the file. Files run in parallel and never see
 * each other's data.
 *
 *   import { useTestDatabases } from './databases.js';
 *   const t = useTestDatabases();               // registers beforeAll/afterAll
 *   it('...', async () => { await t.db.collection('orders').insertOne({}); await t.pg.query('...'); });
 *
 * Tests that FerretDB (the local MongoDB stand-in) cannot serve must say so and are skipped
 * with the reason; they run when MONGO_URI names a real MongoDB. Either at collection time:
 *
 *   it.skipIf(!hasRealMongo())(`keeps Decimal128 exact ${needsRealMongo('FerretDB lacks Decimal128')}`, ...)
 *
 * or inside the test, which makes the reporter show the reason as the skip note:
 *
 *   it('keeps Decimal128 exact', (ctx) => { skipUnlessRealMongo(ctx, 'FerretDB lacks Decimal128'); ... })
 */
import { MongoClient, type Db } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, inject, type TestContext } from 'vitest';
import { createDatabase, dropDatabase, newTestDatabaseName, withDatabase } from './postgres-admin.js';
import type { ProvidedTestServers } from './global-setup.js';

export interface TestDatabases {
  /** postgresql URL of this file's own database (cloned from the template: schema applied). */
  databaseUrl: string;
  /** Server URI (no database in it). */
  mongoUri: string;
  /** This file's own MongoDB database name. */
  mongoDbName: string;
  /** Pool on databaseUrl. */
  pg: pg.Pool;
  mongo: MongoClient;
  /** mongo.db(mongoDbName) */
  db: Db;
  /** False on FerretDB (buildInfo has `ferretdbVersion`). */
  isRealMongo: boolean;
}

/** The servers the global setup provided; a clear error when the file runs outside the integration project. */
export function testServers(): ProvidedTestServers {
  const servers = inject('testServers');
  if (!servers) {
    throw new Error('No test servers: integration tests run in the vitest "integration" project, whose globalSetup starts them (vitest run --project integration).');
  }
  return servers;
}

/** Whether MONGO_URI names a real MongoDB (not FerretDB). Usable at collection time (it.skipIf). */
export function hasRealMongo(): boolean {
  return testServers().isRealMongo;
}

/** The standard suffix for a test title that needs a real MongoDB. */
export function needsRealMongo(reason: string): string {
  return `(needs real MongoDB via MONGO_URI: ${reason})`;
}

/** Skips the running test, with the reason as the reporter's note, unless MongoDB is real. */
export function skipUnlessRealMongo(ctx: TestContext, reason: string): void {
  ctx.skip(!hasRealMongo(), needsRealMongo(reason));
}

/** Creates one more isolated pair (own PG db from template + own Mongo db); caller must call drop(). */
export async function createTestDatabases(): Promise<TestDatabases & { drop(): Promise<void> }> {
  const servers = testServers();
  const name = newTestDatabaseName();
  await createDatabase(servers.adminDatabaseUrl, name, servers.templateDatabase);
  const databaseUrl = withDatabase(servers.adminDatabaseUrl, name);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  // DROP ... WITH (FORCE) terminates sessions a test leaked; that must not crash the worker.
  pool.on('error', () => {});
  const mongo = new MongoClient(servers.mongoUri);
  try {
    await mongo.connect();
  } catch (err) {
    await pool.end().catch(() => {});
    await dropDatabase(servers.adminDatabaseUrl, name).catch(() => {});
    throw err;
  }
  let dropping: Promise<void> | undefined;
  const drop = async () => {
    await mongo.db(name).dropDatabase().catch(() => {});
    await mongo.close().catch(() => {});
    // A test that kept a client checked out would make end() wait forever; FORCE ends it anyway.
    await Promise.race([pool.end().catch(() => {}), new Promise((r) => setTimeout(r, 5_000))]);
    await dropDatabase(servers.adminDatabaseUrl, name);
  };
  return {
    databaseUrl,
    mongoUri: servers.mongoUri,
    mongoDbName: name,
    pg: pool,
    mongo,
    db: mongo.db(name),
    isRealMongo: servers.isRealMongo,
    drop: () => (dropping ??= drop()),
  };
}

/** Registers beforeAll/afterAll in the calling test file; fields are ready inside tests. */
export function useTestDatabases(): TestDatabases {
  let current: (TestDatabases & { drop(): Promise<void> }) | undefined;
  beforeAll(async () => {
    current = await createTestDatabases();
  });
  afterAll(async () => {
    await current?.drop();
  });
  const ready = (): TestDatabases => {
    if (!current) throw new Error('useTestDatabases(): the databases exist only inside tests and hooks (after beforeAll), not at collection time.');
    return current;
  };
  return {
    get databaseUrl() { return ready().databaseUrl; },
    get mongoUri() { return ready().mongoUri; },
    get mongoDbName() { return ready().mongoDbName; },
    get pg() { return ready().pg; },
    get mongo() { return ready().mongo; },
    get db() { return ready().db; },
    get isRealMongo() { return ready().isRealMongo; },
  };
}

/** An EMPTY PostgreSQL database (no template, no schema) for tests of migrations themselves. */
export async function createEmptyPostgresDatabase(): Promise<{ databaseUrl: string; name: string; drop(): Promise<void> }> {
  const servers = testServers();
  const name = newTestDatabaseName();
  await createDatabase(servers.adminDatabaseUrl, name);
  return { databaseUrl: withDatabase(servers.adminDatabaseUrl, name), name, drop: () => dropDatabase(servers.adminDatabaseUrl, name) };
}
