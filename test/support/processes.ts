/** Child processes for the tests: shared with the demo, which starts the same processes. */
export { sagaflowFromSources, spawnNode, spawnTs, stopChild, type Child } from '../../examples/demo/processes.js';
