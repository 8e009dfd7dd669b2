import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The files of a new project besides package.json, as the package ships them (`templates/project`). */
const templateDir = fileURLToPath(new URL('../templates/project/', import.meta.url));

/** Template files whose name npm would not pack (or would act on) as they are. */
const renamed: Readonly<Record<string, string>> = { gitignore: '.gitignore' };

/** Versions the new project's own development dependencies start from. */
const devDependencies = {
  '@types/better-sqlite3': '^9.6.0',
  '@types/node': '^20.19.0',
  concurrently: '^9.2.1',
  typescript: '~5.9.3',
} as const;

/** One file of a new project: its path inside the project (with `/`) and its text. */
export interface ProjectFile {
  readonly path: string;
  readonly text: string;
}

/** A package name npm accepts, made from a directory name (`My App` → `my-app`). */
export function packageNameOf(directoryName: string): string {
  const name = directoryName
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/gu, '-')
    .replace(/^[._-]+|-+$/gu, '')
    .slice(0, 214);
  return name === '' ? 'sagaflow-app' : name;
}

/** The Sagaflow version this CLI is, which the new project depends on. */
function ownPackage(): { version: string } {
  return JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string };
}

/** The better-sqlite3 range the SQLite store uses, so the worker's database shares its one native build. */
function betterSqliteRange(): string {
  const require = createRequire(import.meta.url);
  const manifest = JSON.parse(readFileSync(require.resolve('@sagaflow/store-sqlite/package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const range = manifest.dependencies?.['better-sqlite3'];
  if (range === undefined) throw new Error('@sagaflow/store-sqlite does not name its better-sqlite3 version');
  return range;
}

function templateFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? templateFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** Every file of a new project named `name`: package.json with its dependencies and scripts, then the templates. */
export function projectFiles(name: string): ProjectFile[] {
  const { version } = ownPackage();
  const manifest = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=20.11' },
    scripts: {
      build: 'tsc',
      typecheck: 'tsc --noEmit',
      engine: 'sagaflow run',
      worker: 'tsc && node dist/workers/order-worker.js',
      dev: 'tsc && concurrently --kill-others --names engine,worker "sagaflow run" "node dist/workers/order-worker.js"',
    },
    dependencies: { 'better-sqlite3': betterSqliteRange(), sagaflow: `^${version}` },
    devDependencies,
    // npm 11 asks a project to approve its dependencies' install scripts: better-sqlite3 builds its
    // native module, esbuild (under tsx) checks its binary; protobufjs (under the EventStoreDB client) needs nothing.
    allowScripts: { 'better-sqlite3': true, esbuild: true, protobufjs: false },
  };
  const templates = templateFiles(templateDir)
    .map((file) => {
      const path = relative(templateDir, file).split(sep).join('/');
      return { path: renamed[path] ?? path, text: readFileSync(file, 'utf8').replaceAll('{{name}}', name) };
    })
    .sort((a, b) => a.path.localeCompare(b.path));
  return [{ path: 'package.json', text: `${JSON.stringify(manifest, null, 2)}\n` }, ...templates];
}
