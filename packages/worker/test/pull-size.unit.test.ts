import { describe, expect, it } from 'vitest';
import { nextPullSize, pullCap } from '../src/pull-commands.js';

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

describe('pullCap', () => {
  it('gives each operation an equal share of the slots per pull, so an open pull leaves the others theirs', () => {
    expect(pullCap(100, 5)).toBe(20);
    expect(pullCap(100, 3)).toBe(33);
    expect(pullCap(100, 1)).toBe(100);
  });

  it('lets a pull ask for one command at least, with fewer slots than operations', () => {
    expect(pullCap(3, 5)).toBe(1);
    expect(pullCap(1, 1)).toBe(1);
    expect(pullCap(4, 0)).toBe(4);
  });
});
