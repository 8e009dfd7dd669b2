/**
 * The two ways the bench runs the engine: `compiled`, as a team installs it (the CLI's `bin/sagaflow.js`
 * on the packages' `dist/`, the bench saga and the bench worker compiled by tsc, no TypeScript loader in
 * the process), and
 * `tsx`, as the repository's scripts run it (`node --import tsx packages/cli/src/main.ts`, every module
 * transpiled from its TypeScript source when loaded, the saga file too).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, sagaflowFromSources } from '../examples/demo/processes.js';

export type EngineBuild = 'compiled' | 'tsx';

/** `node` arguments that run `sagaflow` and where its saga files are, for one build. */
export interface EngineCommand {
  readonly node: readonly string[];
  readonly sagas: string;
}

const compiledSagasOf = (root: string): string => join(root, 'dist', 'bench-sagas');
const compiledWorkerOf = (root: string): string => join(root, 'dist', 'bench-worker');

/** Runs tsc with `args` from the checkout at `root`; throws with its output when it fails. */
function runTsc(what: string, args: readonly string[], root: string): void {
  const ran = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), ...args], { cwd: root, encoding: 'utf8' });
  if (ran.status !== 0) throw new Error(`${what} failed (tsc ${args.join(' ')}):\n${ran.stdout}${ran.stderr}`);
}

/**
 * Makes the compiled engine current: `tsc -b packages/cli` (the CLI and the packages it depends on; a
 * no-op when dist/ is up to date) and the bench saga compiled to dist/bench-sagas, where its imports of
 * `@sagaflow/*` resolve through node_modules to the packages' dist/ like a user's compiled saga.
 */
export function prepareCompiledEngine(root = repoRoot): void {
  runTsc('building the packages', ['-b', 'packages/cli', 'packages/worker'], root);
  const compilerOptions = ['--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--lib', 'ES2023', '--strict', '--skipLibCheck', '--types', 'node'];
  runTsc('compiling the bench saga', ['bench/sagas/bench-order.saga.ts', '--outDir', compiledSagasOf(root), ...compilerOptions], root);
  runTsc('compiling the bench worker', ['bench/worker.ts', '--outDir', compiledWorkerOf(root), '--rootDir', '.', ...compilerOptions], root);
}

/**
 * `node` arguments that run the bench worker compiled (after {@link prepareCompiledEngine}), as a team
 * runs its worker: its imports of `@sagaflow/*` resolve to the packages' dist/, no TypeScript loader.
 */
export const compiledWorker = (root = repoRoot): readonly string[] => [join(compiledWorkerOf(root), 'bench', 'worker.js')];

/**
 * How to run `sagaflow` of `build` (after {@link prepareCompiledEngine} for `compiled`), from the
 * checkout at `root` (this one by default; another, e.g. an earlier commit, for before/after runs).
 */
export function engineCommand(build: EngineBuild, root = repoRoot): EngineCommand {
  return build === 'compiled'
    ? { node: [join(root, 'packages', 'cli', 'bin', 'sagaflow.js')], sagas: compiledSagasOf(root) }
    : { node: sagaflowFromSources, sagas: 'bench/sagas' };
}
