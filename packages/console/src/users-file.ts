import { readFileSync } from 'node:fs';
import { ConsoleConfigError, type Operator } from './access.js';

/**
 * Reads a users file: a JSON array of `{ "name": "alice", "token": "…" }`, one entry per operator, each
 * with a token of their own (at least 16 characters) and a distinct name.
 * @throws ConsoleConfigError saying what is wrong with the file.
 */
export function readUsersFile(path: string): Operator[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    throw new ConsoleConfigError(`Cannot read the users file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new ConsoleConfigError(`The users file ${path} must be a JSON array of { "name", "token" }, with at least one`);
  const names = new Set<string>();
  return parsed.map((entry: unknown, index) => {
    const { name, token } = (entry ?? {}) as { name?: unknown; token?: unknown };
    if (typeof name !== 'string' || name.trim() === '' || name.length > 80) throw new ConsoleConfigError(`The users file ${path}: entry ${index + 1} needs a "name" of 1 to 80 characters`);
    if (typeof token !== 'string' || token.length < 16) throw new ConsoleConfigError(`The users file ${path}: the token of "${name}" must have at least 16 characters`);
    if (names.has(name)) throw new ConsoleConfigError(`The users file ${path} names "${name}" twice`);
    names.add(name);
    return { name, token };
  });
}
