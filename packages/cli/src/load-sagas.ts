import { readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRegistry, type AnySagaDefinition, type SagaRegistry } from '@sagaflow/core';
import { OperationError } from './cli-error.js';
import { enableTypeScript, isTypeScript } from './typescript-sagas.js';

const isDefinition = (value: unknown): value is AnySagaDefinition =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as AnySagaDefinition).name === 'string' &&
  typeof (value as AnySagaDefinition).version === 'number' &&
  (value as AnySagaDefinition).steps instanceof Map &&
  typeof (value as AnySagaDefinition).machine === 'object';

/**
 * Loads every `*.saga.ts` / `*.saga.js` file of a directory (also `.mts`, `.mjs`); each must
 * export its definition as `default` (and may export older versions as `previousVersions`, an
 * array). TypeScript files load through tsx (see typescript-sagas.ts); JavaScript ones as they are.
 */
export async function loadSagas(directory: string): Promise<SagaRegistry> {
  const dir = resolve(directory);
  let files: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    files = readdirSync(dir).filter((file) => /\.saga\.(ts|js|mts|mjs)$/.test(file)).sort();
  } catch (error) {
    throw new OperationError(`Cannot read sagas from ${dir}: ${error instanceof Error ? error.message : String(error)} (use --sagas DIR)`);
  }
  if (files.length === 0) throw new OperationError(`No saga files (*.saga.ts, *.saga.js) in ${dir} (use --sagas DIR)`);
  if (files.some(isTypeScript)) await enableTypeScript(dir);
  const definitions: AnySagaDefinition[] = [];
  for (const file of files) {
    let module: { default?: unknown; previousVersions?: unknown };
    try {
      module = (await import(pathToFileURL(resolve(dir, file)).href)) as typeof module;
    } catch (error) {
      throw new OperationError(`Cannot load saga file ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!isDefinition(module.default)) throw new OperationError(`Saga file ${file} has no saga definition as its default export`);
    definitions.push(module.default);
    if (Array.isArray(module.previousVersions)) definitions.push(...module.previousVersions.filter(isDefinition));
  }
  try {
    return createRegistry(definitions);
  } catch (error) {
    throw new OperationError(error instanceof Error ? error.message : String(error));
  }
}
