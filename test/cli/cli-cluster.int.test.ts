/**
 * `sagaflow cluster` and the engines' handover, as real processes: two `sagaflow run` share a
 * namespace (one SQLite file), `cluster --json` shows each with half the partitions, and an engine
 * stopped with SIGTERM hands its partitions over at once, well before its leases could lapse.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startEngine } from '../../examples/demo/deployment.js';
import { cliEnv, sagaflow, sagaflowJson, stderrLines } from '../support/cli.js';
import { stopChild, type Child } from '../support/processes.js';

interface ClusterJson {
  namespace: string;
  partitions: number;
  leaseTtlMs: number;
  engines: { id: string; partitions: number[]; oldestLeaseAgeMs: number | null; instancesInMemory: number; pending: number; unacknowledged: number }[];
  unowned: number[];
  partitionDetails: { partition: number; owner: string | null; leaseAgeMs: number | null }[];
}

const running: Child[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((child) => stopChild(child)));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('sagaflow cluster', () => {
  it('shows two engines with half the partitions each; SIGTERM hands one engine\'s over to the other without waiting for the lease TTL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sagaflow-cluster-'));
    dirs.push(dir);
    const namespace = `cl${Math.random().toString(36).slice(2, 10)}`;
    const natsUrl = inject('natsUrl');
    const engine = (id: string) => startEngine({ natsUrl, namespace, storePath: join(dir, 'sagaflow.db'), args: ['--engine-id', id, '--partitions', '8'], track: (child) => void running.push(child) });
    const global = ['--nats', natsUrl, '--namespace', namespace];
    const view = () => sagaflowJson<ClusterJson>(['cluster', ...global]);

    const first = await engine('engine-a');
    await engine('engine-b');
    const shared = await until(async () => {
      const seen = await view();
      return seen.engines.length === 2 && seen.engines.every((e) => e.partitions.length === 4) ? seen : undefined;
    }, 'the two engines to hold 4 partitions each');
    expect(shared).toMatchObject({ namespace, partitions: 8, leaseTtlMs: 10_000, unowned: [] });
    expect(shared.engines.map((e) => e.id)).toEqual(['engine-a', 'engine-b']);
    for (const e of shared.engines) expect(e.oldestLeaseAgeMs).toBeLessThan(10_000);
    expect(new Set(shared.partitionDetails.map((p) => p.owner))).toEqual(new Set(['engine-a', 'engine-b']));

    const human = await sagaflow(['cluster', ...global], cliEnv());
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^namespace ${namespace}: 8 partitions, lease TTL 10000 ms, 2 engine\\(s\\)$`, 'mu'));
    expect(human.stdout).toMatch(/^engine-a\s.*\s4\s/mu);
    expect(human.stdout).toContain('every partition has an owner');

    const stoppedAt = Date.now();
    await stopChild(first);
    expect(first.lines.join('\n')).toMatch(/stopping: finishing work in progress, handing the partitions over/u);
    const taken = await until(async () => {
      const seen = await view();
      return seen.engines.length === 1 && seen.engines[0]?.partitions.length === 8 ? seen : undefined;
    }, 'engine-b to hold every partition');
    // Handed over, not lapsed: well under the 10 s lease TTL (the taker's next round comes within 2.5 s).
    expect(Date.now() - stoppedAt).toBeLessThan(8_000);
    expect(taken.engines[0]?.id).toBe('engine-b');
  });

  it('a namespace no engine has run in: one line, exit 1', async () => {
    const namespace = `none${Math.random().toString(36).slice(2, 10)}`;
    const result = await sagaflow(['cluster', '--nats', inject('natsUrl'), '--namespace', namespace]);
    expect(result.code).toBe(1);
    expect(stderrLines(result)).toEqual([`sagaflow: Namespace "${namespace}" has no partitions yet: no engine of this Sagaflow has run in it (start one with "sagaflow run")`]);
  });
});
