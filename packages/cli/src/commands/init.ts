import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { OperationError, UsageError } from '../cli-error.js';
import { globalHelp, parseCommand, printedHelp, type Command } from '../options.js';
import { print, printJson } from '../output.js';
import { packageNameOf, projectFiles } from '../project-template.js';

/** `sagaflow init`: a new project outside any repository of ours. */
export const initCommand: Command = {
  name: 'init',
  help: `Usage: sagaflow init [DIR] [--force] [global options]

Creates a Sagaflow project in DIR (default: the current directory), which must be empty or not
exist: package.json (sagaflow, better-sqlite3, TypeScript; scripts build, typecheck, engine,
worker, dev), tsconfig.json, sagas/order.saga.ts (reserve stock, charge a card, release the stock
when the card is declined), workers/order-worker.ts (both steps behind an idempotency barrier on
SQLite), order.json (an input), docker-compose.yml (NATS with JetStream), README.md and
.gitignore. Then prints the three commands that run it. The package is named after DIR.

Options:
  --force     write into a non-empty DIR; files of the same names are overwritten, others kept

${globalHelp}

Examples:
  npx sagaflow init my-sagas
  sagaflow init . --force --json`,
  run(argv) {
    return Promise.resolve(init(this, argv));
  },
};

/** Writes the project; returns the exit code. */
function init(command: Command, argv: readonly string[]): number {
  const { global, values, positionals } = parseCommand(argv, { force: { type: 'boolean' } });
  if (printedHelp(global, command)) return 0;
  if (positionals.length > 1) throw new UsageError(`Unexpected argument(s): ${positionals.slice(1).join(' ')}`);
  const target = resolve(positionals[0] ?? '.');
  const existing = entriesOf(target);
  if (existing.length > 0 && values.force !== true) {
    const shown = existing.slice(0, 5).join(', ') + (existing.length > 5 ? ', …' : '');
    throw new OperationError(`${target} is not empty (${shown}): choose a new directory, or add --force to write into it`);
  }
  const files = projectFiles(packageNameOf(basename(target)));
  const overwritten = files.filter((file) => existsSync(join(target, file.path))).map((file) => file.path);
  for (const file of files) {
    const path = join(target, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.text);
  }
  const next = nextCommands(relative(process.cwd(), target));
  if (global.json) {
    printJson({ directory: target, files: files.map((file) => file.path), overwritten, next: next.map(([line]) => line) });
    return 0;
  }
  print(`Created a Sagaflow project in ${target}: ${files.map((file) => file.path).join(', ')}`);
  if (overwritten.length > 0) print(`Overwrote: ${overwritten.join(', ')}`);
  print();
  print('Next:');
  const width = Math.max(...next.map(([line]) => line.length));
  for (const [line, why] of next) print(`  ${line.padEnd(width)}   # ${why}`);
  return 0;
}

/** The entries of `dir` ([] if it does not exist); refuses a path that is not a directory. */
function entriesOf(dir: string): string[] {
  if (!existsSync(dir)) return [];
  if (!statSync(dir).isDirectory()) throw new OperationError(`${dir} exists and is not a directory`);
  return readdirSync(dir).sort();
}

/** The three commands that install and run the new project, from where `init` ran. */
function nextCommands(fromHere: string): [command: string, why: string][] {
  const cd = fromHere === '' ? '' : `cd ${/^[\w./-]+$/u.test(fromHere) ? fromHere : JSON.stringify(fromHere)} && `;
  return [
    [`${cd}npm install && docker compose up -d`, 'dependencies, and NATS with JetStream on 127.0.0.1:4222'],
    ['npm run dev', 'the engine and the worker; leave it running'],
    ['npx sagaflow start order --id o-1 --input @order.json', 'in a second shell; then npx sagaflow show o-1'],
  ];
}
