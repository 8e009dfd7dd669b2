/**
 * `sagaflow init` as the real binary: the files of a new project, the refusal of a non-empty
 * directory, `--force`, `--json`, and the usage errors. That the project it makes installs,
 * typechecks and runs is test/install.e2e.test.ts's part.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sagaflow, sagaflowJson, stderrLines } from '../support/cli.js';
import { repoRoot } from '../support/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'sagaflow-init-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const projectFiles = [
  '.gitignore',
  'README.md',
  'docker-compose.yml',
  'order.json',
  'package.json',
  'sagas/order.saga.ts',
  'tsconfig.json',
  'workers/order-worker.ts',
];

/** Every file below `root`, with `/`, sorted. */
function filesBelow(root: string, prefix = ''): string[] {
  return readdirSync(join(root, prefix), { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? filesBelow(root, join(prefix, entry.name)) : [join(prefix, entry.name)]))
    .sort();
}

const cliVersion = (JSON.parse(readFileSync(join(repoRoot, 'packages/cli/package.json'), 'utf8')) as { version: string }).version;

describe('sagaflow init', () => {
  it('writes a project named after its directory and prints the three commands that run it', async () => {
    const target = join(dir, 'My Shop', 'sagas-app');
    const result = await sagaflow(['init', target]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(filesBelow(target)).toEqual(projectFiles);
    const manifest = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
    expect(manifest).toMatchObject({ name: 'sagas-app', type: 'module', dependencies: { sagaflow: `^${cliVersion}` } });
    expect(Object.keys(manifest.scripts ?? {})).toEqual(expect.arrayContaining(['build', 'typecheck', 'engine', 'worker', 'dev']));
    expect(readFileSync(join(target, 'sagas/order.saga.ts'), 'utf8')).toMatch(/from 'sagaflow'/u);
    expect(readFileSync(join(target, 'workers/order-worker.ts'), 'utf8')).toMatch(/barrier/iu);

    const lines = result.stdout.trimEnd().split('\n');
    const next = lines.slice(lines.indexOf('Next:') + 1).map((line) => line.replace(/\s+#.*$/u, '').trim());
    // A path with a space is quoted in the cd, so the line can be pasted as it is.
    expect(next).toEqual([
      `cd ${JSON.stringify(relative(repoRoot, target))} && npm install && docker compose up -d`,
      'npm run dev',
      'npx sagaflow start order --id o-1 --input @order.json',
    ]);
  });

  it('refuses a directory that is not empty, names what is in it and writes nothing', async () => {
    const target = join(dir, 'taken');
    mkdirSync(target);
    writeFileSync(join(target, 'notes.txt'), 'mine\n');
    const result = await sagaflow(['init', target]);
    expect(result.code).toBe(1);
    expect(stderrLines(result)).toEqual([expect.stringMatching(/taken is not empty \(notes\.txt\).*--force/u)]);
    expect(result.stdout).toBe('');
    expect(filesBelow(target)).toEqual(['notes.txt']);
  });

  it('with --force writes into a non-empty directory, keeps the other files and says which it overwrote', async () => {
    const target = join(dir, 'forced');
    mkdirSync(target);
    writeFileSync(join(target, 'notes.txt'), 'mine\n');
    writeFileSync(join(target, 'README.md'), 'old\n');
    const output = await sagaflowJson<{ directory: string; files: string[]; overwritten: string[]; next: string[] }>(['init', target, '--force']);
    expect(output).toMatchObject({ directory: target, overwritten: ['README.md'] });
    expect([...output.files].sort()).toEqual(projectFiles);
    expect(output.next).toHaveLength(3);
    expect(readFileSync(join(target, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(readFileSync(join(target, 'README.md'), 'utf8')).not.toBe('old\n');
    expect(filesBelow(target)).toEqual([...projectFiles, 'notes.txt'].sort());
  });

  it('refuses a path that is a file, and more than one directory, each with one line', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const onFile = await sagaflow(['init', file]);
    expect(onFile.code).toBe(1);
    expect(stderrLines(onFile)).toEqual([expect.stringMatching(/a-file exists and is not a directory/u)]);

    const two = await sagaflow(['init', join(dir, 'one'), join(dir, 'two')]);
    expect(two.code).toBe(2);
    expect(stderrLines(two)[0]).toMatch(/Unexpected argument\(s\): .*two/u);
    expect(existsSync(join(dir, 'one'))).toBe(false);
  });
});
