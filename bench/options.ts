/**
 * Command-line options of the benches. A bench checks all its options before it starts anything, and a
 * bad one ends it with one line naming the option and exit code 2: no stack trace, no run that silently
 * measures nothing, no results file written for it.
 */

/** A bench as its messages name it, and the command that prints its options. */
export interface Bench {
  readonly name: string;
  readonly help: string;
}

/** The main bench (`npm run bench`), or one of its own (`npm run bench -- --only <only>`). */
export const benchOf = (only?: string): Bench =>
  only === undefined ? { name: 'bench', help: 'npm run bench -- --help' } : { name: `bench --only ${only}`, help: `npm run bench -- --only ${only} --help` };

/** Stops the bench with a usage error: one line on stderr, exit code 2. */
export function refuse(bench: Bench, problem: string): never {
  process.stderr.write(`${bench.name}: ${problem.replace(/\s*\n\s*/g, ' ').trim()} (see "${bench.help}" and docs/benchmarks.md)\n`);
  process.exit(2);
}

/**
 * Runs `parse` (a strict `parseArgs` call) over the options. `--help` or `-h` prints `usage` and exits 0;
 * an unknown option, a missing value or a stray argument is refused.
 */
export function readOptions<T>(bench: Bench, usage: string, parse: () => T, args: readonly string[] = process.argv.slice(2)): T {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usage.trim()}\n`);
    process.exit(0);
  }
  try {
    return parse();
  } catch (error) {
    refuse(bench, error instanceof Error ? error.message : String(error));
  }
}

/** An option that is a whole number of at least `min`. */
export function wholeNumber(bench: Bench, option: string, value: string, min: number): number {
  const parsed = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min) refuse(bench, `--${option} takes a whole number of at least ${min}, not "${value}"`);
  return parsed;
}

/** An option that is one of `allowed`. */
export function oneOf<const T extends string>(bench: Bench, option: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) refuse(bench, `--${option} takes one of ${allowed.join(', ')}; got "${value}"`);
  return value as T;
}

/** An option that is a comma-separated, non-empty list of some of `allowed`, without repeats. */
export function listOf<const T extends string>(bench: Bench, option: string, value: string, allowed: readonly T[]): T[] {
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => !(allowed as readonly string[]).includes(item))) {
    refuse(bench, `--${option} takes a comma-separated list of ${allowed.join(', ')}; got "${value}"`);
  }
  if (new Set(items).size !== items.length) refuse(bench, `--${option} names an item twice: "${value}"`);
  return items as T[];
}
