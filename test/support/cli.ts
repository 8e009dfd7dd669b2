import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sagaflowFromSources } from './processes.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** What one run of the `sagaflow` binary gave. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a CLI run: the test's own, without settings that would leak into it. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { NATS_URL: _url, SAGAFLOW_STORE: _store, SAGAFLOW_NAMESPACE: _namespace, FORCE_COLOR: _colour, ...env } = process.env;
  return { ...env, ...extra };
}

/** Runs the `sagaflow` command (from its sources) with `args` from the repository root, as an operator would. */
export function sagaflow(args: readonly string[], env: NodeJS.ProcessEnv = cliEnv()): Promise<CliResult> {
  return runNode([...sagaflowFromSources, ...args], env);
}

/** Runs `node ...args` from the repository root to its exit (30 s at most), with all it printed. */
export function runNode(args: readonly string[], env: NodeJS.ProcessEnv = cliEnv()): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: repoRoot, env, timeout: 30_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The run's stdout as JSON; throws with its stderr when it did not exit 0. */
export function jsonOf<T>(result: CliResult): T {
  if (result.code !== 0) throw new Error(`sagaflow exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Runs the binary and parses its JSON output (`--json` is added). */
export async function sagaflowJson<T>(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<T> {
  return jsonOf<T>(await sagaflow([...args, '--json'], env));
}

/** The lines of stderr (a one-line error gives exactly one). */
export const stderrLines = (result: CliResult): string[] => result.stderr.split('\n').filter((line) => line !== '');
