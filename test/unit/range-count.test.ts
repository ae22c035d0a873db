/**
 * How many `_id` ranges a collection is read in: by --partition-size, and below it, where the
 * server serves ranges from its index, as many as migrate's workers can run on the machine's
 * cores, once each range would hold at least MIN_RANGE_DOCUMENTS documents.
 */
import { describe, expect, it } from 'vitest';
import { MIN_RANGE_DOCUMENTS, rangeCount } from '../../src/source/partitions.js';

describe('rangeCount', () => {
  it('splits by partitionSize alone when no minimum is asked (verify, older callers)', () => {
    expect(rangeCount(100_000, { partitionSize: 500_000, maxPartitions: 64 })).toBe(1);
    expect(rangeCount(1_000_000, { partitionSize: 500_000, maxPartitions: 64 })).toBe(2);
  });

  it('gives a collection well below partitionSize the minimum number of ranges', () => {
    expect(rangeCount(100_000, { partitionSize: 500_000, maxPartitions: 64, minPartitions: 2 })).toBe(2);
    expect(rangeCount(2 * MIN_RANGE_DOCUMENTS, { partitionSize: 500_000, maxPartitions: 64, minPartitions: 2 })).toBe(2);
  });

  it('keeps one range when each of the minimum would be too small to be worth a query', () => {
    expect(rangeCount(2 * MIN_RANGE_DOCUMENTS - 1, { partitionSize: 500_000, maxPartitions: 64, minPartitions: 2 })).toBe(1);
    expect(rangeCount(0, { partitionSize: 500_000, maxPartitions: 64, minPartitions: 4 })).toBe(0);
  });

  it('never goes below partitionSize\'s own count, nor above maxPartitions', () => {
    expect(rangeCount(3_000_000, { partitionSize: 500_000, maxPartitions: 64, minPartitions: 2 })).toBe(6);
    expect(rangeCount(3_000_000, { partitionSize: 500_000, maxPartitions: 4, minPartitions: 2 })).toBe(4);
  });
});
