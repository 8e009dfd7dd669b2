import { describe, expect, it } from 'vitest';
import { formatAge, formatDuration, parseDuration } from '@sagaflow/inspect';
import { percentile } from '@sagaflow/inspect';
import { table, palette, visibleWidth } from '../../packages/cli/src/output.js';

describe('CLI formatting', () => {
  it('parses durations with units, alone or combined, and refuses anything else', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('1w')).toBe(604_800_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    for (const bad of ['', '15', 'm', '0m', '1.5h', '-2h', '2 h', '2hours', '1y']) expect(parseDuration(bad)).toBeUndefined();
  });

  it('formats step durations and ages for people', () => {
    expect([850, 1_250, 42_000, 192_000, 7_500_000, 3 * 86_400_000].map(formatDuration)).toEqual(['850ms', '1.25s', '42.0s', '3m12s', '2h05m', '3d00h']);
    expect([0, 59_999, 60_000, 3_600_000, 86_400_000 * 2].map(formatAge)).toEqual(['0s', '59s', '1m', '1h', '2d']);
  });

  it('nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([50, 95, 99, 100].map((p) => percentile(values, p))).toEqual([50, 95, 99, 100]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });

  it('pads table columns by their visible width, colour or not', () => {
    const coloured = palette(true);
    expect(visibleWidth(coloured.red('stuck'))).toBe(5);
    expect(table(palette(false), ['A', 'NUM'], [['x', '1'], ['long', '22']], ['left', 'right'])).toBe('A     NUM\nx       1\nlong   22');
  });
});
