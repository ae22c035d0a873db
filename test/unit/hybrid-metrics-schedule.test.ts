/**
 * The volume sampling schedule: at once, then `intervalMs` after each sample ends, never two
 * at once, failures swallowed (counted by the sampler itself), stopped for good by stop(), and
 * timers that do not keep the application's process alive.
 */
import { describe, expect, it } from 'vitest';
import { SampleSchedule } from '../../src/hybrid-mode/volume-sampler.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SampleSchedule', () => {
  it('samples at once, then again after each interval, never overlapping a slow sample', async () => {
    const runs: { start: number; end: number }[] = [];
    let active = 0;
    let maxActive = 0;
    const schedule = new SampleSchedule(30, async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      const start = performance.now();
      await sleep(60); // slower than the interval
      runs.push({ start, end: performance.now() });
      active--;
    });
    const t0 = performance.now();
    schedule.start();
    await sleep(5);
    expect(active).toBe(1); // the first sample started at once
    await sleep(400);
    await schedule.stop();
    expect(runs[0]!.start - t0).toBeLessThan(20);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(maxActive).toBe(1);
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.start - runs[i - 1]!.end).toBeGreaterThanOrEqual(25);
  });

  it('keeps going after a failed sample, and stop() waits for the sample in progress and ends it all', async () => {
    let calls = 0;
    let finished = 0;
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const schedule = new SampleSchedule(20, async () => {
        calls++;
        await sleep(30);
        finished++;
        if (calls % 2 === 1) throw new Error('database down');
      });
      schedule.start();
      await sleep(150);
      const stopping = schedule.stop();
      await stopping;
      expect(finished).toBe(calls); // nothing left running
      const atStop = calls;
      await sleep(120);
      expect(calls).toBe(atStop);
      expect(atStop).toBeGreaterThanOrEqual(2);
      await sleep(10);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('waits with a timer that does not keep the process alive', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const schedule = new SampleSchedule(60_000, async () => undefined);
    schedule.start();
    await sleep(20);
    // The 60 s wait is scheduled, but unref'd: not among the resources that hold the event loop.
    expect(timers()).toBe(before);
    await schedule.stop();
  });
});
