import { describe, expect, it } from 'vitest';
import { readAhead } from '../../src/source/mongo-source.js';
import { CollectionStats, timedSource } from '../../src/pipeline/batch-pipeline.js';

/** A source of `n` items that logs when each is requested and when it is closed. */
function source(n: number, log: string[], failAt?: number) {
  return (async function* () {
    try {
      for (let i = 1; i <= n; i++) {
        log.push(`fetch ${i}`);
        await new Promise((r) => setTimeout(r, 5));
        if (i === failAt) throw new Error(`lost at ${i}`);
        yield i;
      }
    } finally {
      log.push('closed');
    }
  })();
}

describe('readAhead', () => {
  it('asks for the next item before the consumer has finished with the current one', async () => {
    const log: string[] = [];
    for await (const i of readAhead(source(3, log))) {
      log.push(`work ${i} starts`);
      await new Promise((r) => setTimeout(r, 20));
      log.push(`work ${i} ends`);
    }
    expect(log.indexOf('fetch 2')).toBeLessThan(log.indexOf('work 1 ends'));
    expect(log.indexOf('fetch 3')).toBeLessThan(log.indexOf('work 2 ends'));
    expect(log.filter((l) => l.startsWith('work') && l.endsWith('starts'))).toEqual(['work 1 starts', 'work 2 starts', 'work 3 starts']);
    expect(log.filter((l) => l === 'closed')).toHaveLength(1);
  });

  it('closes the source when the consumer stops early, after the item in flight', async () => {
    const log: string[] = [];
    const seen: number[] = [];
    for await (const i of readAhead(source(10, log))) {
      seen.push(i);
      if (i === 2) break;
    }
    expect(seen).toEqual([1, 2]);
    expect(log).toContain('closed');
    expect(log).not.toContain('fetch 5');
  });

  it('passes on the source failure, and the consumer error is not masked by closing', async () => {
    const log: string[] = [];
    const consume = async () => {
      for await (const i of readAhead(source(5, log, 3))) void i;
    };
    await expect(consume()).rejects.toThrow('lost at 3');
    const failing = async () => {
      for await (const i of readAhead(source(5, [], 2))) if (i === 1) throw new Error('write failed');
    };
    await expect(failing()).rejects.toThrow('write failed');
  });

  it('an item read ahead that fails while the consumer works on the current one is the consumer\'s failure, not an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const seen: number[] = [];
      const consume = async () => {
        for await (const i of readAhead(source(5, [], 2))) {
          seen.push(i);
          // Busy with item 1 (a batch being written) well past the moment item 2 fails (a cursor closed under it).
          await new Promise((r) => setTimeout(r, 60));
        }
      };
      await expect(consume()).rejects.toThrow('lost at 2');
      await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual([1]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('timedSource', () => {
  it('adds the time spent waiting for each item, and only that', async () => {
    const stats = new CollectionStats();
    for await (const i of timedSource(source(3, []), stats)) {
      void i;
      await new Promise((r) => setTimeout(r, 100)); // consumer time: not counted
    }
    // Four waits of about 5 ms (three items, then the end); the 300 ms of consumer time must not be in it.
    expect(stats.sourceWaitMs).toBeGreaterThanOrEqual(10);
    expect(stats.sourceWaitMs).toBeLessThan(150);
  });
});
