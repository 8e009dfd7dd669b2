/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof DIR`): self time by function and by
 * module (package, node_modules package, or node internal), as shares of the sampled time.
 * Usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readOptions, refuse, wholeNumber } from './options.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const usage = `
node --import tsx bench/profile-summary.ts FILE.cpuprofile... [--top 25]    self time by module and by function

  --top 25    functions listed per profile
`;
const bench = { name: 'profile-summary', help: 'node --import tsx bench/profile-summary.ts --help' };
// `… | head` closes the pipe before the summary ends: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const { values, positionals } = readOptions(bench, usage, () => parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } }));
const top = wholeNumber(bench, 'top', values.top, 1);
if (positionals.length === 0) refuse(bench, 'name at least one .cpuprofile file');
/** A profile as V8 writes it; an unreadable or foreign file is refused with its name. */
function readProfile(file: string): Profile {
  try {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Partial<Profile>;
    if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples) || !Array.isArray(profile.timeDeltas)) throw new Error('not a V8 CPU profile');
    return profile as Profile;
  } catch (error) {
    refuse(bench, `cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
for (const file of positionals) {
  const profile = readProfile(file);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const moduleOf = (url: string, name: string): string => {
    if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name;
    if (url === '') return '(native/V8)';
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (nm !== null) return nm[1] ?? url;
    const pkg = /packages\/([^/]+)\//.exec(url);
    if (pkg !== null) return `@sagaflow/${pkg[1]}`;
    if (url.startsWith('node:')) return url.split('/')[0] ?? url;
    return url.replace(/^file:\/\/.*\/main\//, '');
  };
  const fns = new Map<string, number>();
  const modules = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const mod = moduleOf(url, functionName);
    const short = url.replace(/^file:\/\/.*?\/(node_modules|packages)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${short === '' ? '' : `${short}:${lineNumber + 1}`}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    modules.set(mod, (modules.get(mod) ?? 0) + us);
  }
  const pct = (us: number): string => `${((100 * us) / total).toFixed(1)}%`.padStart(6);
  const busy = total - (modules.get('(idle)') ?? 0);
  console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s not idle`);
  console.log('\nby module (self time):');
  for (const [name, us] of [...modules].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${(us / 1e3).toFixed(0).padStart(6)} ms  ${name}`);
  console.log('\nby function (self time):');
  for (const [name, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${(us / 1e3).toFixed(0).padStart(6)} ms  ${name}`);
  console.log('');
}
