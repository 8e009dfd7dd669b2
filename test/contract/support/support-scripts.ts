import { runNode } from '../../support/cli.js';

/** Where the support scripts are. */
export const supportScript = (name: string): string => new URL(name, import.meta.url).pathname;

/** Runs a support script through tsx to its exit; resolves with its output, rejects with its error output if it fails. */
export async function runScript(script: string, args: readonly string[]): Promise<string> {
  const run = await runNode(['--import', 'tsx', supportScript(script), ...args]);
  if (run.code !== 0) throw new Error(`${script} ${args[0] ?? ''} exited with ${run.code}: ${run.stderr}`);
  return run.stdout;
}

/**
 * Has `processes` processes open `files` new files `<prefix>-<n>.sqlite` (as a SQLite event store or as an
 * EventStoreDB store's instance listing), every process opening file `n` at the same moment
 * (`sqlite-store-opener.ts`); resolves with the files' paths once every process opened every file.
 */
export async function openAtOnce(kind: 'store' | 'listing', prefix: string, files = 60, processes = 6): Promise<string[]> {
  const startAt = Date.now() + 2500;
  const runs = await Promise.all(Array.from({ length: processes }, () => runScript('sqlite-store-opener.ts', [kind, prefix, String(files), String(startAt), '50'])));
  const short = runs.find((opened) => opened !== String(files));
  if (short !== undefined) throw new Error(`a process opened ${short} of ${files} files`);
  return Array.from({ length: files }, (_, n) => `${prefix}-${n}.sqlite`);
}
