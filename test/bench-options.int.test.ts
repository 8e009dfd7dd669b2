import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEnv, runNode, type CliResult } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sagaflow-bench-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `npm run bench` as its script runs it: the real process, to its exit, with all it printed. */
const bench = (args: readonly string[]): Promise<CliResult> => runNode(['--import', 'tsx', 'bench/saga-throughput.ts', ...args]);

describe('npm run bench: bad options, and a missing nats-server, are refused with one line', () => {
  it.each([
    [['--bogus'], `bench: Unknown option '--bogus'`],
    [['--n', 'abc'], 'bench: --n takes a whole number of at least 1, not "abc"'],
    [['--concurrency', '0'], 'bench: --concurrency takes a whole number of at least 1, not "0"'],
    [['--c1-n', '2.5'], 'bench: --c1-n takes a whole number of at least 0, not "2.5"'],
    [['--workloads', 'W1,W3'], 'bench: --workloads takes a comma-separated list of W1, W2; got "W1,W3"'],
    [['--ids', 'uuid4'], 'bench: --ids takes one of sequential, uuid; got "uuid4"'],
    [['--only', 'sagaflw'], 'bench: --only takes a comma-separated list of sagaflow, sagaflow-tsx, baseline; got "sagaflw"'],
    [['--only', 'toString'], 'bench: --only takes a comma-separated list of sagaflow, sagaflow-tsx, baseline; got "toString"'],
    [['--only', 'sagaflow,scale'], 'bench: --only list|scale|decision|append|takeover|console runs a bench of its own and takes no other deployment; got "sagaflow,scale"'],
    [['--stages', '--c1-n', '0'], 'bench: --stages watches one more concurrency-1 run per workload; it needs --c1-n above 0'],
    [['--engines', '9'], 'bench: --engines takes a whole number from 1 to 8, not 9'],
    [['--curve', '10,abc'], 'bench: --curve takes a whole number of at least 1, not "abc"'],
    [['--curve', '100,30000'], 'bench: --curve takes in-flight levels up to 20000, not 30000'],
    [['--heap-growth', '0'], 'bench: --heap-growth takes a whole number of at least 1, not "0"'],
    [['--heap-growth', '2000'], 'bench: --heap-growth takes a percentage from 1 to 1000, not 2000'],
    [['--against', '/nonexistent'], 'bench: --against /nonexistent: not a Sagaflow checkout (no packages/cli/bin/sagaflow.js); clone the commit there and run npm ci in it'],
    [['--engines', '2', '--only', 'baseline'], 'bench: --engines compares Sagaflow with several engines against one: keep sagaflow in --only'],
    [['--telemetry', 'off,traces'], 'bench: --telemetry takes a comma-separated list of off, metrics, traces-noop, traces-otlp; got "off,traces"'],
    [['--telemetry', 'off,metrics', '--only', 'baseline'], 'bench: --telemetry compares the compiled engine with itself, once per variant: it takes neither --only nor --engines'],
  ])('%j: one line, exit code 2, no results file', async (args, message) => {
    const out = join(dir, `${args.join('_')}.json`);
    const run = await bench([...args, '--out', out]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`${message} (see "npm run bench -- --help" and docs/benchmarks.md)\n`);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    [['--quick', '--only', 'scale'], `bench --only scale: Unknown option '--quick' (see "npm run bench -- --only scale --help" and docs/benchmarks.md)`],
    [['--only=decision', '--sagas', '1e3'], 'bench --only decision: --sagas takes a whole number of at least 1, not "1e3" (see "npm run bench -- --only decision --help" and docs/benchmarks.md)'],
    [['--only', 'append', '--workloads', 'W1,W1'], 'bench --only append: --workloads names an item twice: "W1,W1" (see "npm run bench -- --only append --help" and docs/benchmarks.md)'],
    [['--only', 'append', '--ids', 'random'], 'bench --only append: --ids takes one of sequential, uuid; got "random" (see "npm run bench -- --only append --help" and docs/benchmarks.md)'],
    [['--only', 'list', '--runs', '0'], 'bench --only list: --runs takes a whole number of at least 1, not "0" (see "npm run bench -- --only list --help" and docs/benchmarks.md)'],
  ])('a bench of its own, %j: refused with its own name and help', async (args, line) => {
    const run = await bench(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`${line}\n`);
  });

  it('without a nats-server to start (none on PATH, no NATS_URL): one line saying how to get one, exit code 1, no results file', async () => {
    const out = join(dir, 'no-nats.json');
    const { NATS_SERVER_BIN: _bin, ...env } = cliEnv({ PATH: '/nonexistent' });
    const run = await runNode(['--import', 'tsx', 'bench/saga-throughput.ts', '--quick', '--out', out], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^bench: nats-server was not found\. Install it .* or set NATS_URL to use a running server with JetStream\.\n$/);
    expect(existsSync(out)).toBe(false);
  });

  it('--help lists the options and the benches of their own, exit code 0', async () => {
    const run = await bench(['--help']);
    expect(run.code).toBe(0);
    for (const option of ['--workloads', '--n', '--concurrency', '--ids', '--c1-n', '--stages', '--store', '--only', '--peers', '--quick', '--out']) {
      expect(run.stdout).toContain(`  ${option} `);
    }
    for (const only of ['list', 'scale', 'decision', 'append']) expect(run.stdout).toContain(`npm run bench -- --only ${only} `);
    const scale = await bench(['--only', 'scale', '--help']);
    expect(scale.code).toBe(0);
    expect(scale.stdout).toContain('--in-flight 10000');
  });
});
