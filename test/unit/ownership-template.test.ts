/** The child-rows template the registry records for a written document, made in Node. */
import { describe, expect, it } from 'vitest';
import { writtenChildRowsTemplate } from '../../src/state/ownership.js';

describe('written child rows template', () => {
  it('lists the rows in table then position order, whatever order they come in', () => {
    const ordered = [
      { table: 0, position: 0 },
      { table: 0, position: 2 },
      { table: 1, position: 0 },
      { table: 1, position: 10 },
    ];
    expect(writtenChildRowsTemplate(ordered)).toBe('0.0.# 0.2.# 1.0.# 1.10.#');
    expect(writtenChildRowsTemplate([ordered[2], ordered[0], ordered[3], ordered[1]] as typeof ordered)).toBe('0.0.# 0.2.# 1.0.# 1.10.#');
    expect(writtenChildRowsTemplate([])).toBe('');
  });
});
