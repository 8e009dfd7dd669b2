/**
 * The packages as `npm pack --workspaces` makes them: each tarball's files, its package.json,
 * and the packages its compiled JavaScript imports.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { repoRoot } from '../support/processes.js';

const run = promisify(execFile);

/** One packed package. */
export interface Tarball {
  readonly path: string;
  readonly manifest: Manifest;
  /** Its files, relative to the package root. */
  readonly files: readonly string[];
  /** Where it was unpacked. */
  readonly dir: string;
}

/** What the tests read of a package.json. */
export interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly private?: boolean;
  readonly license?: string;
  readonly engines?: { readonly node?: string };
  readonly exports?: unknown;
  readonly bin?: Record<string, string>;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

/** Packs every workspace into `dir` (each package's prepack builds it first) and unpacks each tarball next to it. */
export async function packWorkspaces(dir: string, env: NodeJS.ProcessEnv): Promise<Tarball[]> {
  mkdirSync(dir, { recursive: true });
  const { stdout } = await run('npm', ['pack', '--workspaces', '--json', '--pack-destination', dir], { cwd: repoRoot, env, maxBuffer: 64 * 1024 * 1024 });
  const packed = JSON.parse(stdout) as { filename: string }[];
  return packed.map(({ filename }) => {
    const path = join(dir, filename);
    const unpacked = join(dir, filename.replace(/\.tgz$/u, ''));
    mkdirSync(unpacked, { recursive: true });
    execFileSync('tar', ['-xzf', path, '-C', unpacked, '--strip-components', '1']);
    const manifest = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as Manifest;
    return { path, manifest, files: filesUnder(unpacked).sort(), dir: unpacked };
  });
}

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    return entry.isDirectory() ? filesUnder(dir, path) : [path];
  });
}

/** Every string an `exports` map leads to. */
export const exportTargets = (exports: unknown): string[] =>
  typeof exports === 'string' ? [exports] : typeof exports === 'object' && exports !== null ? Object.values(exports).flatMap(exportTargets) : [];

const builtins = new Set(builtinModules);

/** The packages a tarball's JavaScript imports (statically or with `import()`), by name. */
export function importedPackages(tarball: Tarball): string[] {
  const names = new Set<string>();
  for (const file of tarball.files.filter((path) => /\.(js|mjs)$/u.test(path))) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(tarball.dir, file), 'utf8'), true, true);
    for (const { fileName: specifier } of importedFiles) {
      if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier)) continue;
      const [scope = '', name = ''] = specifier.split('/');
      names.add(scope.startsWith('@') ? `${scope}/${name}` : scope);
    }
  }
  return [...names].sort();
}
