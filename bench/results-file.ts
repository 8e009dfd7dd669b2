/** What every bench entry point records with its results: the machine, and where the results go. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../examples/demo/processes.js';

/** The machine a run was made on, with the load average at its start. */
export const machineFacts = (): { nproc: number; cpu: string; memGiB: number; node: string; loadAvgAtStart: number[] } => ({
  nproc: cpus().length,
  cpu: cpus()[0]?.model ?? '?',
  memGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadAvgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
});

/**
 * Writes `results` as JSON to `out`, or when none is given to `bench/results/<date><suffix>.json`, never over
 * an earlier file of that day (`<date><suffix>-2.json`, …). Returns the path written.
 */
export function writeResultsFile(out: string | undefined, suffix: string, results: object): string {
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  let path = out ?? join(dir, `${date}${suffix}.json`);
  for (let k = 2; out === undefined && existsSync(path); k++) path = join(dir, `${date}${suffix}-${k}.json`);
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}
