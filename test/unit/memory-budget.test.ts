import { describe, expect, it } from 'vitest';
import { keepWithinBudget } from '../../src/runtime/memory-budget.js';

/** A WeakRef to an object nothing else holds (created and never dereferenced in this job). */
function unreachable(): WeakRef<object> {
  return new WeakRef({ payload: new Array(1000).fill('garbage') });
}

describe('keepWithinBudget', () => {
  it('does nothing under the budget or when turned off', () => {
    expect(keepWithinBudget(Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(keepWithinBudget(0)).toBe(false);
    expect(keepWithinBudget(-1)).toBe(false);
  });

  it('over the budget, runs a full collection: an unreachable object is gone right after', async () => {
    const ref = unreachable();
    await new Promise((r) => setTimeout(r, 0));
    expect(keepWithinBudget(1)).toBe(true);
    expect(ref.deref()).toBeUndefined();
  });
});
