import type * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';

/** One problem found by a codec: where (dotted path from the root) and what was expected. */
export interface DecodeProblem {
  readonly path: string;
  readonly expected: string;
  readonly actual: string;
}

/** Decodes `value` with `codec`, turning io-ts errors into readable path/expected/actual triples. */
export function decodeWith<A, O>(codec: t.Type<A, O, unknown>, value: unknown): E.Either<readonly DecodeProblem[], A> {
  const result = codec.decode(value);
  if (E.isRight(result)) return result;
  return E.left(result.left.map(toProblem));
}

function toProblem(error: t.ValidationError): DecodeProblem {
  const keys: string[] = [];
  error.context.forEach((entry, index) => {
    const parent = index > 0 ? (error.context[index - 1]?.type as { _tag?: string } | undefined) : undefined;
    const memberOfCombinator = parent?._tag === 'UnionType' || parent?._tag === 'IntersectionType';
    if (entry.key !== '' && !memberOfCombinator) keys.push(entry.key);
  });
  const last = error.context[error.context.length - 1];
  return {
    path: keys.length === 0 ? '(root)' : keys.join('.'),
    expected: error.message ?? last?.type.name ?? 'a valid value',
    actual: describe(error.value),
  };
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  const text = jsonOf(value) ?? nonJson(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The value as JSON, or `undefined` when JSON cannot hold it (a BigInt, a cycle, a function). */
function jsonOf(value: unknown): string | undefined {
  try {
    // `undefined` for a function or a symbol, whatever the lib's type says.
    const text: string | undefined = JSON.stringify(value);
    return text;
  } catch {
    return undefined;
  }
}

function nonJson(value: unknown): string {
  switch (typeof value) {
    case 'bigint':
      return `${value}n (a BigInt)`;
    case 'function':
      return 'a function';
    case 'symbol':
      return value.toString();
    default:
      return 'a value JSON cannot hold';
  }
}

/** One line naming each problem: `path: expected X, got Y`. */
export const formatProblems = (problems: readonly DecodeProblem[]): string =>
  problems.map((p) => `${p.path}: expected ${p.expected}, got ${p.actual}`).join('; ');
