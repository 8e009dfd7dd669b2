import type { AnySagaDefinition } from './saga-definition.js';

/** The saga definitions an engine knows, by name and version. */
export interface SagaRegistry {
  /** The definition that folds instances started with this version. */
  get(name: string, version: number): AnySagaDefinition | undefined;
  /** The newest version, used to start instances. */
  latest(name: string): AnySagaDefinition | undefined;
  /** `name@version` of every definition. */
  list(): readonly string[];
}

/** Builds a registry; two definitions with the same name and version are refused. */
export function createRegistry(definitions: readonly AnySagaDefinition[]): SagaRegistry {
  const byKey = new Map<string, AnySagaDefinition>();
  const latest = new Map<string, AnySagaDefinition>();
  for (const definition of definitions) {
    const key = `${definition.name}@${definition.version}`;
    if (byKey.has(key)) throw new Error(`Saga ${key} is defined twice`);
    byKey.set(key, definition);
    const newest = latest.get(definition.name);
    if (newest === undefined || newest.version < definition.version) latest.set(definition.name, definition);
  }
  return {
    get: (name, version) => byKey.get(`${name}@${version}`),
    latest: (name) => latest.get(name),
    list: () => [...byKey.keys()].sort(),
  };
}
