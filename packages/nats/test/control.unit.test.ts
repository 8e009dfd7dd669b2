import { describe, expect, it } from 'vitest';
import { eventLoopBusyShare } from '../src/control.js';

describe('eventLoopBusyShare', () => {
  it('is the busy share since start, or since an earlier reading', () => {
    expect(eventLoopBusyShare({ activeMs: 250, idleMs: 750 })).toBe(0.25);
    expect(eventLoopBusyShare({ activeMs: 1_250, idleMs: 850 }, { activeMs: 250, idleMs: 750 })).toBeCloseTo(1_000 / 1_100);
  });

  it('is null when no time passed', () => {
    expect(eventLoopBusyShare({ activeMs: 0, idleMs: 0 })).toBeNull();
    expect(eventLoopBusyShare({ activeMs: 5, idleMs: 5 }, { activeMs: 5, idleMs: 5 })).toBeNull();
  });
});
