import { describe, expect, it } from 'vitest';
import { CollectionStats } from '../../src/pipeline/batch-pipeline.js';

describe('documents left alone for the application', () => {
  it('counts each document once per run, however often it was read', () => {
    const stats = new CollectionStats();
    stats.leftAlone(['oid:a', 'oid:b']);
    // The incremental sync reads a new dated document twice: as new, then as changed.
    stats.leftAlone(['oid:a']);
    expect(stats.skippedModified).toBe(2);
    const completion = new CollectionStats();
    completion.leftAlone(['oid:b', 'oid:c']);
    stats.leftAloneBy(completion);
    expect(stats.skippedModified).toBe(3);
  });

  it('keeps at most 100,000 keys: beyond them, documents are counted without the check', () => {
    const stats = new CollectionStats();
    stats.leftAlone(Array.from({ length: 100_000 }, (_, i) => `k${i}`));
    stats.leftAlone(['k0', 'beyond', 'beyond']);
    expect(stats.skippedModified).toBe(100_002);
  });
});
