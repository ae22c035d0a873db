/** A child row belongs to the migration only when its id is exactly childUuid(parent, model, position). */
import { describe, expect, it } from 'vitest';
import { childUuid, nameUuid } from '../../src/core/ids.js';
import { isMigrationChild } from '../../src/state/ownership.js';

const parent = '018f3b2a-1c00-8a00-8000-00000000abcd';

describe('isMigrationChild', () => {
  it('accepts the id the migration derives from parent and position, in any case', () => {
    const id = childUuid(parent, 'OrderItem', 3);
    expect(isMigrationChild({ id, parent, position: 3 }, 'OrderItem')).toBe(true);
    expect(isMigrationChild({ id: id.toUpperCase(), parent, position: 3 }, 'OrderItem')).toBe(true);
  });

  it('refuses a version-5 id that is not ours, our id at another position, under another parent or model', () => {
    const id = childUuid(parent, 'OrderItem', 3);
    const foreignV5 = nameUuid('elsewhere', 'x');
    expect(foreignV5[14]).toBe('5');
    expect(isMigrationChild({ id: foreignV5, parent, position: 3 }, 'OrderItem')).toBe(false);
    expect(isMigrationChild({ id, parent, position: 4 }, 'OrderItem')).toBe(false);
    expect(isMigrationChild({ id, parent: '018f3b2a-1c00-8a00-8000-00000000abce', position: 3 }, 'OrderItem')).toBe(false);
    expect(isMigrationChild({ id, parent, position: 3 }, 'OrderStatusHistory')).toBe(false);
  });

  it('refuses application ids (v4, v7) and impossible positions', () => {
    expect(isMigrationChild({ id: '0f8fad5b-d9cb-469f-a165-70867728950e', parent, position: 0 }, 'OrderItem')).toBe(false);
    expect(isMigrationChild({ id: '0190f5e2-7b1a-7000-8000-000000000001', parent, position: 0 }, 'OrderItem')).toBe(false);
    expect(isMigrationChild({ id: childUuid(parent, 'OrderItem', 0), parent, position: -1 }, 'OrderItem')).toBe(false);
    expect(isMigrationChild({ id: childUuid(parent, 'OrderItem', 0), parent, position: 0.5 }, 'OrderItem')).toBe(false);
  });
});
