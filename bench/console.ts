/**
 * The console over a large store: a temporary SQLite store filled with `--instances` instances (the
 * spread of `--only list`), the compiled `sagaflow ui` serving it, then
 *   - the list API (`/api/instances`: the newest page, by status, by saga and status, an id prefix, a
 *     page 20 pages deep), median wall time of `--runs` requests each, over HTTP;
 *   - first paint of the Instances page in headless Chromium (Debian's, through playwright-core): the
 *     browser's first-contentful-paint, and until the page's table shows its rows, median of `--runs`
 *     fresh page loads; and the size of the page's bundle as shipped.
 *
 *   npm run bench -- --only console [--instances 100000 --runs 5 --out FILE]
 */
import { gzipSync } from 'node:zlib';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { startNatsServer, type NatsServer } from '../examples/demo/nats-server.js';
import { repoRoot, spawnNode, stopChild, type Child } from '../examples/demo/processes.js';
import { prepareCompiledEngine } from './engine-build.js';
import { median } from './harness.js';
import { fillLargeStore } from './large-store.js';
import { benchOf, readOptions, wholeNumber } from './options.js';
import { machineFacts, writeResultsFile } from './results-file.js';

const usage = `
npm run bench -- --only console [OPTIONS]    the console's list API and first paint over a large store

  --instances 100000   instances written to the store
  --runs 5             requests per query, and page loads; medians are reported
  --out FILE           where to write the results (default: bench/results/<date>-console.json)
`;
const bench = benchOf('console');
const { values } = readOptions(bench, usage, () =>
  parseArgs({ options: { instances: { type: 'string', default: '100000' }, runs: { type: 'string', default: '5' }, out: { type: 'string' } } }),
);
const total = wholeNumber(bench, 'instances', values.instances, 1);
const runs = wholeNumber(bench, 'runs', values.runs, 1);
const dir = mkdtempSync(join(tmpdir(), 'sagaflow-bench-console-'));
const path = join(dir, 'sagaflow.db');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let nats: NatsServer | null = null;
let ui: Child | null = null;

/** The wall time of the first GET of `route` and the median of `runs` more, ms; checks each answered 200. */
async function timed(base: string, route: string): Promise<{ firstMs: number; medianMs: number }> {
  const samples: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const started = performance.now();
    const response = await fetch(new URL(route, base));
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${route} answered ${response.status}`);
    samples.push(performance.now() - started);
  }
  const round = (ms: number): number => Number(ms.toFixed(1));
  return { firstMs: round(samples[0] ?? Number.NaN), medianMs: round(median(samples.slice(1))) };
}

/** The cursor of the page `pages` pages down the newest-first listing. */
async function deepCursor(base: string, pages: number): Promise<string> {
  let after = '';
  for (let i = 0; i < pages; i++) {
    const page = (await (await fetch(new URL(`/api/instances?limit=50${after === '' ? '' : `&after=${encodeURIComponent(after)}`}`, base))).json()) as { next: string | null };
    after = page.next ?? after;
  }
  return after;
}

let exitCode = 0;
try {
  prepareCompiledEngine();
  const fillMs = await fillLargeStore(path, total, 2000, Date.now());
  nats = await startNatsServer();
  ui = spawnNode(['packages/cli/bin/sagaflow.js', 'ui', '--store', `sqlite:${path}`, '--nats', nats.url, '--namespace', 'benchconsole', '--sagas', 'sagas', '--port', '0']);
  const base = /(http:\/\/\S+\/)/u.exec(await ui.waitFor(/^console ready: /u, 60_000))?.[1] ?? '';
  const after = await deepCursor(base, 20);
  const queries: [string, string][] = [
    ['newest 50', '/api/instances'],
    ['status stuck, 50', '/api/instances?status=stuck'],
    ['saga order-fulfilment, status running or stuck', '/api/instances?saga=order-fulfilment&status=running&status=stuck'],
    ['id prefix trip-0001', '/api/instances?prefix=trip-0001'],
    ['started in a 2-day window, changed in a 7-day one', `/api/instances?startedFrom=${new Date(Date.now() - 10 * 86_400_000).toISOString()}&startedTo=${new Date(Date.now() - 8 * 86_400_000).toISOString()}&changedFrom=${new Date(Date.now() - 14 * 86_400_000).toISOString()}`],
    ['page 21 (cursor)', `/api/instances?after=${encodeURIComponent(after)}`],
    ['newest 500', '/api/instances?limit=500'],
    ['overview (counts over every instance, cached 5 s)', '/api/overview?minutes=60'],
  ];
  const api: { query: string; firstMs: number; medianMs: number }[] = [];
  for (const [query, route] of queries) api.push({ query, ...(await timed(base, route)) });

  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
  const paints: { fcp: number; rows: number }[] = [];
  for (let i = 0; i <= runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const started = performance.now();
    await page.goto(new URL('/instances', base).href);
    await page.locator('table.instances tbody tr').first().waitFor({ timeout: 30_000 });
    const rows = performance.now() - started;
    const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN);
    if (i > 0) paints.push({ fcp, rows });
    await context.close();
  }
  await browser.close();
  const assets = join(repoRoot, 'packages', 'console', 'dist', 'ui', 'assets');
  const bundle = readdirSync(assets).map((file) => {
    const bytes = readFileSync(join(assets, file));
    return { file, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  const firstPaint = { firstContentfulPaintMs: Number(median(paints.map((p) => p.fcp)).toFixed(0)), rowsShownMs: Number(median(paints.map((p) => p.rows)).toFixed(0)) };
  const sizeMb = statSync(path).size / 1024 / 1024;
  console.log(
    [
      `the console over ${total.toLocaleString('en')} instances (${sizeMb.toFixed(0)} MB SQLite, filled in ${(fillMs / 1000).toFixed(1)} s), compiled sagaflow ui, ${runs} runs each`,
      '',
      '| list API query | first request, ms | median of the next, ms |',
      '|---|---|---|',
      ...api.map((row) => `| ${row.query} | ${row.firstMs} | ${row.medianMs} |`),
      '',
      `first contentful paint of /instances: ${firstPaint.firstContentfulPaintMs} ms; rows shown: ${firstPaint.rowsShownMs} ms (median of ${runs} fresh loads, headless Chromium)`,
      `page bundle: ${bundle.map((asset) => `${asset.file} ${(asset.bytes / 1024).toFixed(1)} KB (${(asset.gzip / 1024).toFixed(1)} KB gzip)`).join(', ')}`,
    ].join('\n'),
  );
  const slowest = Math.max(...api.map((row) => Math.max(row.firstMs, row.medianMs)));
  console.log(`target: list API ≤ 1000 ms over 100,000 instances: ${slowest <= 1000 ? 'met' : 'missed'} (slowest query ${slowest} ms)`);
  const out = writeResultsFile(values.out, '-console', { when: new Date().toISOString(), command: `npm run bench -- --only console ${process.argv.slice(2).join(' ')}`.trim(), machine: machineFacts(), instances: total, runs, api, firstPaint, bundle });
  console.log(`wrote ${out}`);
} catch (error) {
  exitCode = 1;
  console.error(error);
  if (ui !== null) console.error(ui.stderr.join('').slice(-2000));
} finally {
  if (ui !== null) await stopChild(ui, 5000);
  await nats?.stop();
  nats?.remove();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);
