/**
 * The partition of an instance id: FNV-1a (32-bit) of its UTF-8 bytes modulo P, identical in every
 * engine, worker and client. The expected values are the published FNV-1a test vectors and values
 * computed by an independent implementation (Python), so a change of the function is caught.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPartitions, defaultPartitions, maxPartitions, partitionOf } from '../src/partition.js';

describe('partitionOf', () => {
  it('is FNV-1a of the UTF-8 bytes modulo the partition count', () => {
    // FNV-1a 32-bit: "" → 0x811c9dc5, "a" → 0xe40c292c, "foobar" → 0xbf9cf968.
    expect(partitionOf('', 256)).toBe(0xc5);
    expect(partitionOf('a', 256)).toBe(0x2c);
    expect(partitionOf('foobar', 256)).toBe(0x68);
    expect(partitionOf('a', 32)).toBe(12);
    expect(partitionOf('foobar', 7)).toBe(0);
    expect(partitionOf('order-42', 32)).toBe(20);
    // Beyond ASCII the id's UTF-8 bytes count, not its UTF-16 code units.
    expect(partitionOf('commande-été', 32)).toBe(20);
    expect(partitionOf('😀', 7)).toBe(3);
    expect(partitionOf('日本語-注文', 32)).toBe(28);
    // A lone surrogate is not UTF-8: it counts as U+FFFD, as TextEncoder encodes it.
    expect(partitionOf('\ud800x', 32)).toBe(22);
    expect(partitionOf('\ud800x', 32)).toBe(partitionOf('\ufffdx', 32));
  });

  it('hashes the bytes TextEncoder gives for any string, lone surrogates included', () => {
    const fnv = (bytes: Uint8Array): number => bytes.reduce((hash, byte) => Math.imul(hash ^ byte, 0x01000193), 0x811c9dc5) >>> 0;
    const encoder = new TextEncoder();
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (id) => partitionOf(id, 256) === fnv(encoder.encode(id)) % 256));
  });

  it('spreads ids evenly enough over the partitions', () => {
    const counts = new Array<number>(defaultPartitions).fill(0);
    for (let i = 0; i < 32_000; i++) counts[partitionOf(`order-${i}`, defaultPartitions)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(800);
    for (const count of counts) expect(count).toBeLessThan(1200);
  });

  it('with one partition, everything is partition 0', () => {
    expect(partitionOf('anything', 1)).toBe(0);
  });
});

describe('checkPartitions', () => {
  it('takes whole numbers from 1 to the maximum and names anything else', () => {
    expect(checkPartitions(1)).toBe(1);
    expect(checkPartitions(maxPartitions)).toBe(maxPartitions);
    for (const bad of [0, -1, 1.5, maxPartitions + 1, Number.NaN]) {
      expect(() => checkPartitions(bad)).toThrow(new RangeError(`Invalid partition count ${String(bad)}: use a whole number from 1 to ${maxPartitions}`));
    }
  });
});
