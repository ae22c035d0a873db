/**
 * verify reads, counts and compares every source document exactly once, whatever the
 * partition size: one `_id`-ordered read of the collection's documents (no `_id` ranges,
 * whose filters a MongoDB-compatible server may match differently), watched through the
 * driver's command events on the test server.
 */
import { MongoClient, type CommandStartedEvent, type CommandSucceededEvent, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { runMigrate, shippedMapping } from '../support/migration.js';
import { verify } from '../../src/use-cases/verify/verify.js';

const t = useTestDatabases();
const N = 2500;
let watched: MongoClient;

beforeAll(async () => {
  await insertSimpleOrders(t.db, N);
  await runMigrate(t.db, t.pg, { collections: ['workspaces', 'orders'], batchSize: 1000 });
  watched = new MongoClient(t.mongoUri, { monitorCommands: true });
  await watched.connect();
});

afterAll(async () => {
  await watched?.close();
});

/** Full-document reads of `collection` (no projection): the find commands, and the documents their cursors returned. */
function watchReads(client: MongoClient, collection: string): { finds: Document[]; returned: () => number } {
  const finds: Document[] = [];
  const cursors = new Set<string>();
  const requests = new Map<number, 'find' | 'getMore'>();
  let returned = 0;
  client.on('commandStarted', (e: CommandStartedEvent) => {
    const c = e.command;
    if (e.commandName === 'find' && c.find === collection && c.projection === undefined) {
      finds.push(c.filter ?? {});
      requests.set(e.requestId, 'find');
    } else if (e.commandName === 'getMore' && cursors.has(String(c.getMore))) requests.set(e.requestId, 'getMore');
  });
  client.on('commandSucceeded', (e: CommandSucceededEvent) => {
    const kind = requests.get(e.requestId);
    if (!kind) return;
    const cursor = (e.reply as { cursor?: { id?: unknown; firstBatch?: unknown[]; nextBatch?: unknown[] } }).cursor;
    if (kind === 'find') cursors.add(String(cursor?.id));
    returned += (cursor?.firstBatch ?? cursor?.nextBatch ?? []).length;
  });
  return { finds, returned: () => returned };
}

describe('verify counts each document once', () => {
  it('reads the collection in one pass and counts N source documents, with a partition size far below N', async () => {
    const mapping = await shippedMapping();
    const reads = watchReads(watched, 'orders');
    const result = await verify(
      { db: watched.db(t.mongoDbName), pool: t.pg, mapping },
      { collections: ['orders'], concurrency: 4, batchSize: 300, maxSamples: 10, failOnRejects: true, partitionSize: 500, signal: new AbortController().signal },
    );
    const orders = result.collections[0];
    expect(orders).toMatchObject({ name: 'orders', source: N, migrated: N, rejected: 0, notMigrated: 0, checked: N, missing: 0, extra: 0, mismatched: 0 });
    expect(result.ok).toBe(true);
    expect(reads.finds).toEqual([{}]);
    expect(reads.returned()).toBe(N);
  });
});
