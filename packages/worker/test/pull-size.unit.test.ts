import { describe, expect, it } from 'vitest';
import { nextPullSize } from '../src/pull-commands.js';

describe('nextPullSize', () => {
  it('doubles after a pull that filled, up to the most allowed', () => {
    expect(nextPullSize(1, 1, 96)).toBe(2);
    expect(nextPullSize(32, 32, 96)).toBe(64);
    expect(nextPullSize(64, 64, 96)).toBe(96);
  });

  it('asks for what arrived after a pull that ran out its time, and for one while nothing comes', () => {
    expect(nextPullSize(64, 10, 96)).toBe(10);
    expect(nextPullSize(8, 0, 96)).toBe(1);
    expect(nextPullSize(1, 0, 96)).toBe(1);
  });

  it('never asks for more than the most allowed, nor for less than one', () => {
    expect(nextPullSize(4, 4, 1)).toBe(1);
    expect(nextPullSize(200, 150, 96)).toBe(96);
  });
});
