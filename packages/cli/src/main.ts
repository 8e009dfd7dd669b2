import { OperationError, UsageError } from './cli-error.js';
import type { Command } from './options.js';

/** The commands, loaded on use so that `list` does not pay for NATS and the engine. */
const commands: readonly { readonly name: string; readonly summary: string; readonly load: () => Promise<Command> }[] = [
  { name: 'list', summary: 'list saga instances, newest change first (filter by saga, status, age)', load: async () => (await import('./commands/list.js')).listCommand },
  { name: 'show', summary: 'one instance: input, status, failure and its timeline of events', load: async () => (await import('./commands/show.js')).showCommand },
  { name: 'watch', summary: 'follow instances changing status, live, until Ctrl-C', load: async () => (await import('./commands/watch.js')).watchCommand },
  {
    name: 'stats',
    summary: 'counts per saga and status, step latency percentiles, retry and compensation rates',
    load: async () => (await import('./commands/stats.js')).statsCommand,
  },
  { name: 'retry', summary: 'give a stuck step or compensation a fresh retry budget', load: async () => (await import('./commands/retry.js')).retryCommand },
  { name: 'abort', summary: 'stop a running instance and compensate what it did', load: async () => (await import('./commands/abort.js')).abortCommand },
  { name: 'resume', summary: 'send again the commands and timers an instance waits for', load: async () => (await import('./commands/resume.js')).resumeCommand },
  { name: 'skip', summary: 'mark a stuck compensation as done by hand and carry on', load: async () => (await import('./commands/skip.js')).skipCommand },
  { name: 'ui', summary: 'the console: a web page to watch instances, dead letters and engines, and repair instances', load: async () => (await import('./commands/ui.js')).uiCommand },
  { name: 'dlq', summary: 'dead letters: list, show, replay, drop', load: async () => (await import('./commands/dlq.js')).dlqCommand },
  {
    name: 'cluster',
    summary: 'the engines sharing the namespace: their partitions, lease ages, instances in memory and lag',
    load: async () => (await import('./commands/cluster.js')).clusterCommand,
  },
  { name: 'ping', summary: 'whether an engine runs in the namespace (exit 0) or not (exit 1): a health check', load: async () => (await import('./commands/ping.js')).pingCommand },
  { name: 'init', summary: 'create a new project: a saga, a worker with its barrier, docker-compose.yml with NATS', load: async () => (await import('./commands/init.js')).initCommand },
  { name: 'start', summary: 'start a saga instance (a start request over NATS)', load: async () => (await import('./commands/start.js')).startCommand },
  {
    name: 'run',
    summary: 'run the engine: dispatch steps over NATS, record replies, fire timers, resume after restarts',
    load: async () => (await import('./commands/run.js')).runCommand,
  },
];

const section = (names: readonly string[]): string => commands.filter((command) => names.includes(command.name)).map(line).join('\n');

const usage = `Usage: sagaflow COMMAND [options]

Inspect (read the store only):
${section(['list', 'show', 'watch', 'stats'])}

Repair (sent to the running engine over NATS; recorded as events with --by and --reason):
${section(['retry', 'abort', 'resume', 'skip'])}

Dead letters (NATS):
${section(['dlq'])}

Console:
${section(['ui'])}

Run:
${section(['init', 'start', 'run', 'ping', 'cluster'])}

Run "sagaflow COMMAND --help" for a command's options and examples; docs/cli.md has them all.
Exit codes: 0 ok, 1 operation refused or failed, 2 usage error.`;

function line(command: { name: string; summary: string }): string {
  return `  ${command.name.padEnd(8)} ${command.summary}`;
}

/** Errors whose message is the whole story: no hint to use --verbose. */
const knownTags = new Set(['NatsUnavailable', 'EventStoreUnavailable', 'NoEngine', 'StreamConflict', 'NoStartStream', 'NamespaceConfig', 'NoOwner', 'ConsoleConfig', 'WrongExpectedRevision']);
const isKnown = (error: unknown): boolean =>
  error instanceof OperationError || (typeof error === 'object' && error !== null && knownTags.has(String((error as { _tag?: unknown })._tag)));

/** One line: messages from libraries sometimes span several. */
const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage}\n`);
    return name === undefined ? 2 : 0;
  }
  const entry = commands.find((candidate) => candidate.name === name);
  if (entry === undefined) throw new UsageError(`Unknown command "${name}"; commands: ${commands.map((command) => command.name).join(', ')}`);
  const command = await entry.load();
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(error.message, name);
    throw error;
  }
}

// `sagaflow list | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const verbose = process.argv.includes('--verbose');
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    const help = error.command === undefined ? 'sagaflow --help' : `sagaflow ${error.command} --help`;
    process.stderr.write(`sagaflow: ${oneLine(error.message)} (see "${help}")\n`);
    if (verbose && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 2;
  } else {
    const message = oneLine(error instanceof Error ? error.message : String(error));
    if (verbose && error instanceof Error && error.stack !== undefined) {
      process.stderr.write(`sagaflow: ${message}\n${error.stack}\n`);
    } else {
      process.stderr.write(`sagaflow: ${message}${isKnown(error) ? '' : ' (run with --verbose for details)'}\n`);
    }
    process.exitCode = 1;
  }
}
