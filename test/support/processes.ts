/** Child processes for the tests: shared with the demo, which starts the same processes. */
export { isRunning, repoRoot, sagaflowFromSources, spawnNode, spawnProgram, spawnTs, stopChild, type Child } from '../../examples/demo/processes.js';
