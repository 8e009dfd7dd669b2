import { spawn } from 'node:child_process';

/** Runs a script through tsx; resolves with its output, rejects with its error output if it fails. */
export function runNode(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${args[0] ?? 'node'} ${args[1] ?? ''} exited with ${code}: ${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Where the support scripts are. */
export const supportScript = (name: string): string => new URL(name, import.meta.url).pathname;

/**
 * Has `processes` processes open `files` new files `<prefix>-<n>.sqlite` (as a SQLite event store or as an
 * EventStoreDB store's instance listing), every process opening file `n` at the same moment
 * (`sqlite-store-opener.ts`); resolves with the files' paths once every process opened every file.
 */
export async function openAtOnce(kind: 'store' | 'listing', prefix: string, files = 60, processes = 6): Promise<string[]> {
  const startAt = Date.now() + 2500;
  const script = supportScript('sqlite-store-opener.ts');
  const runs = await Promise.all(Array.from({ length: processes }, () => runNode([script, kind, prefix, String(files), String(startAt), '50'])));
  const short = runs.find((opened) => opened !== String(files));
  if (short !== undefined) throw new Error(`a process opened ${short} of ${files} files`);
  return Array.from({ length: files }, (_, n) => `${prefix}-${n}.sqlite`);
}
