import { describe, expect, it } from 'vitest';
import { loopBusyPct } from './harness.js';

describe('loopBusyPct', () => {
  it('is the busy share of the time between two readings, not since start', () => {
    const before = { engine: { activeMs: 1_000, idleMs: 9_000 } };
    const after = { engine: { activeMs: 1_900, idleMs: 9_100 } };
    expect(loopBusyPct(before, after)).toEqual({ engine: 90 });
  });

  it('leaves out a process missing from either reading, or one whose loop did not advance', () => {
    const before = { engine: { activeMs: 5, idleMs: 5 }, relay: { activeMs: 1, idleMs: 1 } };
    const after = { engine: { activeMs: 5, idleMs: 5 }, echo: { activeMs: 3, idleMs: 3 } };
    expect(loopBusyPct(before, after)).toEqual({});
  });
});
