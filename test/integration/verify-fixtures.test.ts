/**
 * No false positive on messy legacy data: after migrating the fixture generator's data
 * (every production variation FerretDB can store: numbers as text, dates as strings, orphan
 * references, unmapped fields, the workspace/user cycle…), verify finds nothing to report
 * but the documents that were rejected, which it counts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { runMigrate, shippedMapping } from '../support/migration.js';
import { generateFixtures } from '../../dev/fixtures/generate.js';
import { verify } from '../../src/use-cases/verify/verify.js';

const t = useTestDatabases();
let rejected = 0;

beforeAll(async () => {
  await generateFixtures({ db: t.db, scale: 150, seed: 6, realMongo: t.isRealMongo });
  const r = await runMigrate(t.db, t.pg, { batchSize: 100 });
  rejected = r.collections.reduce((n, c) => n + c.rejected, 0);
});

describe('verify on the legacy fixtures', () => {
  it('agrees everywhere after the migration: no mismatch, no missing or extra row; rejects are counted', async () => {
    const mapping = await shippedMapping();
    const result = await verify(
      { db: t.db, pool: t.pg, mapping },
      { collections: mapping.loadOrder, concurrency: 2, batchSize: 64, maxSamples: 50, failOnRejects: false, signal: new AbortController().signal },
    );
    const problems = result.collections.flatMap((c) => [...c.mismatches, ...c.missingRows, ...c.extraRows]);
    expect(problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(rejected).toBeGreaterThan(0);
    expect(result.collections.reduce((n, c) => n + c.rejected, 0)).toBe(rejected);
    for (const c of result.collections) {
      expect(c.source, c.name).toBe(c.migrated + c.rejected + c.notMigrated);
      expect(c.checked, c.name).toBe(c.migrated);
    }
    const strict = await verify(
      { db: t.db, pool: t.pg, mapping },
      { collections: ['orders'], concurrency: 2, batchSize: 64, maxSamples: 5, failOnRejects: true, signal: new AbortController().signal },
    );
    expect(strict.ok).toBe(strict.collections[0]?.rejected === 0);
  });
});
