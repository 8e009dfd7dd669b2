/**
 * The console in a real browser: headless Chromium (Debian's, driven by playwright-core) on the page
 * `sagaflow ui` serves, with a real engine (`sagaflow run`), the test worker and nats-server. An
 * operator signs in, filters the list, opens a compensated instance and sees its compensated step
 * in the diagram, fixes and retries a stuck instance and watches it end live, replays a dead letter,
 * and sees an action refused with the engine's reason. Screenshots go to test-artifacts/console/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { partitionOf, type SagaStatus } from '@sagaflow/core';
import { connectNats, naming, putDeadLetter, readNamespaceConfig, startRequestBody } from '@sagaflow/nats';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import type { CliRepairInput } from '../fixtures/cli-sagas/cli-repair.saga.js';
import { sagaflow } from '../support/cli.js';
import { repoRoot, sagaflowFromSources, spawnNode, spawnTs, stopChild, type Child } from '../support/processes.js';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const artifacts = join(repoRoot, 'test-artifacts', 'console');
const natsUrl = inject('natsUrl');
const dir = mkdtempSync(join(tmpdir(), 'sagaflow-console-e2e-'));
const flags = join(dir, 'flags');
const namespace = `uie2e${Math.random().toString(36).slice(2, 8)}`;
const names = naming(namespace);
const storePath = join(dir, 'sagaflow.db');
const global = ['--store', `sqlite:${storePath}`, '--nats', natsUrl, '--namespace', namespace, '--sagas', 'test/fixtures/cli-sagas'];
const children: Child[] = [];
let browser: Browser;
let page: Page;
let base = '';
let connection: NatsConnection;

async function statusOf(id: string): Promise<SagaStatus | undefined> {
  const store = openSqliteEventStore(storePath);
  try {
    return (await store.getInstance(id))?.status;
  } finally {
    await store.close();
  }
}

async function settles(id: string, status: SagaStatus): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await statusOf(id)) === status) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${id} is ${(await statusOf(id)) ?? 'missing'}, not ${status}`);
}

const start = (id: string, input: CliRepairInput): Promise<unknown> => sagaflow(['start', 'cli-repair', '--id', id, '--input', JSON.stringify(input), ...global]);
const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

beforeAll(async () => {
  if (!existsSync(chromiumPath)) throw new Error(`No Chromium at ${chromiumPath}: apt-get install chromium (or set CHROMIUM_PATH)`);
  mkdirSync(flags);
  mkdirSync(artifacts, { recursive: true });
  const engine = spawnNode([...sagaflowFromSources, 'run', ...global, '--ack-wait-ms', '2000']);
  const worker = spawnTs('test/support/cli-worker.ts', ['--flags', flags, '--namespace', namespace, '--nats', natsUrl]);
  children.push(engine, worker);
  await Promise.all([engine.waitFor(/engine ready/u, 30_000), worker.waitFor(/^worker ready$/u, 30_000)]);
  await Promise.all([
    start('ok-1', { key: 'ok-1', charge: 'ok', compensationFails: false }),
    start('declined-1', { key: 'declined-1', charge: 'decline', compensationFails: false }),
    start('stuck-1', { key: 'stuck-1', charge: 'decline', compensationFails: true }),
  ]);
  await Promise.all([settles('ok-1', 'completed'), settles('declined-1', 'compensated'), settles('stuck-1', 'stuck')]);
  // A start request that was given up on: replaying it from the console starts its instance.
  connection = await connectNats({ url: natsUrl, name: 'console-e2e' });
  const js = jetstream(connection);
  const config = await readNamespaceConfig(js, names);
  const request = { kind: 'start' as const, saga: 'cli-repair', instanceId: 'replayed-1', input: { key: 'replayed-1', charge: 'ok', compensationFails: false } };
  await putDeadLetter(js, names, {
    originSubject: names.start('cli-repair', partitionOf('replayed-1', config?.partitions ?? 32)),
    data: startRequestBody(request),
    reason: 'the engine was down for maintenance (test)',
    deliveries: 20,
    at: Date.now(),
  });

  const ui = spawnNode([...sagaflowFromSources, 'ui', ...global, '--port', '0']);
  children.push(ui);
  base = /(http:\/\/\S+\/)/u.exec(await ui.waitFor(/^console ready: /u, 30_000))?.[1] ?? '';
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await connection?.close();
  await Promise.all(children.map((child) => stopChild(child)));
  rmSync(dir, { recursive: true, force: true });
});

describe('the console in a browser', () => {
  it('signs in, filters the list, and draws a compensated instance\'s steps', async () => {
    await page.goto(base);
    await page.getByPlaceholder('Your name').fill('alice');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByText('signed in as').textContent()).toContain('alice');
    await page.getByRole('link', { name: 'Instances' }).click();
    const rows = page.locator('table.instances tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    await page.getByLabel('compensated').check();
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-instance')).toBe('declined-1');
    expect(page.url()).toContain('status=compensated');
    await shot('instances-filtered');

    await page.getByRole('link', { name: 'declined-1' }).click();
    const reserve = page.locator('.step[data-step="reserve"]');
    await expect.poll(() => reserve.getAttribute('data-state')).toBe('compensated');
    expect(await page.locator('.step[data-step="charge"]').getAttribute('data-state')).toBe('failed');
    await expect.poll(() => page.locator('dd.failure').textContent()).toContain('Declined');
    expect(await page.locator('table.timeline tbody tr').count()).toBeGreaterThan(5);
    await shot('instance-compensated');
  });

  it('retries a stuck instance with a reason once the cause is fixed, and shows it end without reloading', async () => {
    await page.goto(new URL('/instances/stuck-1', base).href);
    await expect.poll(() => page.locator('h2 .badge').textContent()).toBe('stuck');
    expect(await page.locator('.step[data-step="reserve"]').getAttribute('data-state')).toBe('compensationFailed');
    writeFileSync(join(flags, 'stuck-1.fixed'), 'the refund service is back');
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.getByLabel('Reason (recorded with the change)').fill('refund service back (INC-42)');
    await shot('retry-dialog');
    await page.getByRole('button', { name: 'Confirm' }).click();
    // The page follows the engine's status changes (server-sent events): no reload here.
    await expect.poll(() => page.locator('h2 .badge').textContent(), { timeout: 20_000 }).toBe('compensated');
    await expect.poll(() => page.locator('.step[data-step="reserve"]').getAttribute('data-state')).toBe('compensated');
    await expect.poll(() => page.locator('table.timeline').textContent()).toContain('retry by alice: refund service back (INC-42)');
    expect(await statusOf('stuck-1')).toBe('compensated');
    await shot('instance-retried');
  });

  it('replays a dead letter with a reason', async () => {
    await page.getByRole('link', { name: 'Dead letters' }).click();
    const letter = page.locator('table.letters tbody tr').first();
    await expect.poll(() => letter.textContent()).toContain('the engine was down for maintenance');
    await letter.getByRole('button').click();
    await expect.poll(() => page.locator('.letter pre').textContent()).toContain('replayed-1');
    await shot('dead-letter');
    await page.getByRole('button', { name: 'Replay' }).click();
    await page.getByLabel('Reason (recorded with the change)').fill('engine back; start it now');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.locator('p.notice').textContent()).toContain('replayed to');
    await settles('replayed-1', 'completed');
    await expect.poll(() => page.getByText('No dead letters.').count()).toBe(1);
  });

  it('shows an action the instance\'s state does not allow refused, with the engine\'s reason', async () => {
    await page.goto(new URL('/instances/ok-1', base).href);
    await expect.poll(() => page.locator('h2 .badge').textContent()).toBe('completed');
    await page.getByRole('button', { name: 'Abort' }).click();
    await page.getByLabel('Reason (recorded with the change)').fill('customer asked');
    await page.getByRole('button', { name: 'Confirm' }).click();
    const refusal = page.locator('.dialog [role="alert"]');
    await expect.poll(() => refusal.textContent()).toMatch(/completed/u);
    await shot('action-refused');
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(await statusOf('ok-1')).toBe('completed');
  });

  it('draws the overview and the sagas page', async () => {
    await page.goto(base);
    await expect.poll(() => page.locator('table.counts tr[data-saga="cli-repair"]').count()).toBe(1);
    await expect.poll(() => page.locator('.health.up').count()).toBe(1);
    await expect.poll(() => page.locator('.chart canvas').count()).toBeGreaterThanOrEqual(2);
    await shot('overview');
    await page.getByRole('link', { name: 'Sagas' }).click();
    await page.locator('[data-saga="cli-repair@1"] summary').click();
    await expect.poll(() => page.locator('svg.machine g.state').count()).toBeGreaterThan(5);
    await shot('sagas');
  });
});
