/**
 * Global setup of the `integration` project: starts the servers once for the whole run
 * (MONGO_URI / DATABASE_URL when the operator gives them, else FerretDB and PostgreSQL started
 * here), makes sure the migrated template database exists, and hands the connection facts to
 * test files through `provide` (read with `inject` in ./databases.ts).
 */
import { MongoClient } from 'mongodb';
import type { TestProject } from 'vitest/node';
import { redactUri } from '../../src/core/redact.js';
import { startLocalServers } from '../../dev/servers/index.js';
import { dropStaleDatabases, ensureTemplateDatabase, isStaleTestDatabase, TEST_DB_PREFIX } from './postgres-admin.js';

/** What every integration test file can `inject('testServers')`. */
export interface ProvidedTestServers {
  /** A database on the PostgreSQL server usable for CREATE/DROP DATABASE. */
  adminDatabaseUrl: string;
  /** The migrated template each file's database is cloned from. */
  templateDatabase: string;
  /** MongoDB server URI, no database. */
  mongoUri: string;
  /** False on FerretDB. */
  isRealMongo: boolean;
}

declare module 'vitest' {
  export interface ProvidedContext {
    testServers: ProvidedTestServers;
  }
}

const log = (line: string) => process.stderr.write(`[test servers] ${line}\n`);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  // HM_TEST_PRIVATE_POSTGRES=1 runs the suite on a throwaway cluster even when 5432 answers
  // (the path a machine without a running PostgreSQL takes).
  const servers = await startLocalServers({ log, forcePrivatePostgres: process.env.HM_TEST_PRIVATE_POSTGRES === '1' });
  try {
    log(`servers ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: MongoDB ${redactUri(servers.mongoUri)}, PostgreSQL ${redactUri(servers.databaseUrl)}`);
    const stalePg = await dropStaleDatabases(servers.databaseUrl);
    const template = await ensureTemplateDatabase(servers.databaseUrl);
    log(`template database ${template.name} ${template.created ? 'created' : 'reused'} in ${template.ms} ms`);
    const mongo = await inspectMongo(servers.mongoUri);
    if (stalePg.length + mongo.staleDropped > 0) log(`dropped ${stalePg.length + mongo.staleDropped} stale test database(s) of dead runs`);
    project.provide('testServers', {
      adminDatabaseUrl: servers.databaseUrl,
      templateDatabase: template.name,
      mongoUri: servers.mongoUri,
      isRealMongo: mongo.isRealMongo,
    });
  } catch (err) {
    await servers.stop();
    throw err;
  }
  return async () => {
    await servers.stop();
  };
}

/** Tells FerretDB from MongoDB (its buildInfo has `ferretdbVersion`) and drops stale test databases. */
async function inspectMongo(uri: string): Promise<{ isRealMongo: boolean; staleDropped: number }> {
  const client = new MongoClient(uri);
  try {
    await client.connect();
    const info = await client.db('admin').command({ buildInfo: 1 });
    const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
    const stale = databases.map((d) => d.name).filter((n) => n.startsWith(TEST_DB_PREFIX) && isStaleTestDatabase(n));
    for (const name of stale) await client.db(name).dropDatabase().catch(() => {});
    return { isRealMongo: !('ferretdbVersion' in info), staleDropped: stale.length };
  } finally {
    await client.close();
  }
}
