import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { describe, expect, it } from 'vitest';
import { decodeWith, formatProblems } from '../src/codec.js';

describe('decode problems', () => {
  it('describe values JSON cannot hold instead of throwing', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const codec = t.type({ a: t.number, b: t.number, c: t.number, d: t.string });
    const decoded = decodeWith(codec, { a: 1n, b: () => 1, c: cyclic, d: Symbol('s') });
    expect(E.isLeft(decoded)).toBe(true);
    if (E.isRight(decoded)) return;
    expect(formatProblems(decoded.left)).toBe(
      'a: expected number, got 1n (a BigInt); b: expected number, got a function; c: expected number, got a value JSON cannot hold; d: expected string, got Symbol(s)',
    );
  });
});
