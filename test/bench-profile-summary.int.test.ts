/** bench/profile-summary.ts read the way it is used: its output piped into a reader that may stop early. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'sagaflow-profile-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A V8 CPU profile of `functions` functions, one sample each: its summary runs to hundreds of KB with --top. */
function writeProfile(functions: number): string {
  const children = Array.from({ length: functions }, (_, i) => i + 2);
  const nodes = [
    { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children },
    ...children.map((id) => ({ id, callFrame: { functionName: `step${id}`, url: `file:///app/node_modules/pkg${id}/index.js`, lineNumber: id } })),
  ];
  const file = join(dir, `profile-${functions}.cpuprofile`);
  writeFileSync(file, JSON.stringify({ nodes, samples: children, timeDeltas: children.map(() => 100), startTime: 0, endTime: functions * 100 }));
  return file;
}

describe('bench/profile-summary.ts', () => {
  it('ends quietly with exit code 0 when its reader closes the pipe early (`| head`)', async () => {
    const file = writeProfile(5000);
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/profile-summary.ts', file, '--top', '5000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Read the first line, then close the pipe while the summary (far more than a pipe holds) is still being written.
    const first = await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().split('\n')[0] ?? '')));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(first).toBe(`${file}: 0.50 s sampled, 0.50 s not idle`);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
