import { NatsUnavailableError } from '@sagaflow/nats';
import { EventStoreUnavailableError } from '@sagaflow/core';
import { OperationError, UsageError } from './cli-error.js';
import { runCommand } from './commands/run.js';
import { startCommand } from './commands/start.js';
import type { Command } from './options.js';

const commands: readonly Command[] = [runCommand, startCommand];

const usage = `Usage: sagaflow COMMAND [options]

Commands:
${commands.map((command) => `  ${command.name.padEnd(8)} ${command.summary}`).join('\n')}

Run "sagaflow COMMAND --help" for a command's options and examples.
Exit codes: 0 ok, 1 operation refused or failed, 2 usage error.`;

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (command === undefined) throw new UsageError(`Unknown command "${name}"`);
  return command.run(rest);
}

const verbose = process.argv.includes('--verbose');
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`sagaflow: ${error.message}\nRun "sagaflow --help" for usage.\n`);
    process.exitCode = 2;
  } else {
    const known = error instanceof OperationError || error instanceof NatsUnavailableError || error instanceof EventStoreUnavailableError;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`sagaflow: ${message}\n`);
    if (verbose && error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
    else if (!known) process.stderr.write('(run with --verbose for details)\n');
    process.exitCode = 1;
  }
}
