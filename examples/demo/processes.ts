import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: child processes run from here, so relative script paths resolve. */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `node` arguments that run the `sagaflow` command from its TypeScript sources, as the
 * repository's scripts and tests do; `packages/cli/bin/sagaflow.js` runs the compiled one a user
 * installs (built by `npm run build`).
 */
export const sagaflowFromSources: readonly string[] = ['--import', 'tsx', 'packages/cli/src/main.ts'];

/** A child process, its output collected line by line. */
export interface Child {
  readonly process: ChildProcess;
  readonly lines: string[];
  readonly stderr: string[];
  /** Resolves with the first stdout line matching `pattern`, rejecting if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
}

/** How to start a child. */
export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Working directory (default: the repository root). */
  readonly cwd?: string;
  /** Own process group: a Ctrl-C in the terminal then reaches only the parent, which stops its children in order. */
  readonly detached?: boolean;
}

/** Starts `node --import tsx <script> ...args` from the repository root. */
export function spawnTs(script: string, args: readonly string[], options: SpawnOptions = {}): Child {
  return spawnNode(['--import', 'tsx', script, ...args], options.env, options);
}

/** Starts `node ...args` from the repository root (e.g. the `sagaflow` binary). */
export function spawnNode(args: readonly string[], env: NodeJS.ProcessEnv = process.env, options: Omit<SpawnOptions, 'env'> = {}): Child {
  return spawnProgram(process.execPath, args, env, options);
}

/** Starts `program ...args` (from the repository root unless `options.cwd` says otherwise). */
export function spawnProgram(program: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, options: Omit<SpawnOptions, 'env'> = {}): Child {
  const child = spawn(program, [...args], { cwd: options.cwd ?? repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env, detached: options.detached === true });
  const lines: string[] = [];
  const stderr: string[] = [];
  const listeners = new Set<(line: string) => void>();
  let buffer = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const listener of listeners) listener(line);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    process: child,
    lines,
    stderr,
    exited,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((line) => pattern.test(line));
        if (seen !== undefined) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(pattern)}; stderr: ${stderr.join('')}`)), timeoutMs);
        const listener = (line: string): void => {
          if (!pattern.test(line)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(line);
        };
        listeners.add(listener);
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`process exited (${String(code)}) before ${String(pattern)}; stderr: ${stderr.join('')}`));
        });
      }),
  };
}

/** Whether the child is still running. */
export const isRunning = (child: Child): boolean => child.process.exitCode === null && child.process.signalCode === null;

/** Asks the child to stop (SIGTERM), and kills it (SIGKILL) if it has not exited after `graceMs`. */
export async function stopChild(child: Child, graceMs = 10_000): Promise<void> {
  if (!isRunning(child)) return;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (isRunning(child)) child.process.kill('SIGKILL');
  }, graceMs);
  await child.exited;
  clearTimeout(timer);
}
