/**
 * Sagaflow as a team installs it. Every package is packed (`npm pack --workspaces`) and published
 * to a local npm registry (test/install/local-registry.ts); projects in a temporary directory
 * outside the repository then install `sagaflow` from it by name with npm, typecheck their saga
 * and worker with their own `tsc`, and run the engine, a worker and `sagaflow start`/`show` as
 * compiled JavaScript against a real nats-server. Nothing of the repository's node_modules is on
 * their path: no workspace link, no tsx of ours.
 *
 * The README's "Install in your project" section is followed as written, command by command,
 * except `docker compose up -d` (no Docker engine here: NATS_URL points at the test's nats-server,
 * and the scaffolded docker-compose.yml is checked to publish NATS on 4222 instead).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startLocalRegistry, type LocalRegistry } from './install/local-registry.js';
import { servePrebuiltBinaries, type PrebuiltBinaries } from './install/prebuilt-binaries.js';
import { exportTargets, importedPackages, packWorkspaces, type Tarball } from './install/tarballs.js';
import { isRunning, repoRoot, spawnProgram, type Child } from './support/processes.js';
import { codeBlocks, commandsOf, readmeSection, readmeSections } from './support/readme.js';

const installSection = readmeSection('Install in your project');
const [newProjectCommands = [], existingServiceCommands = []] = codeBlocks(installSection, 'bash').map(commandsOf);

let work = '';
let tarballs: Tarball[] = [];
let registry: LocalRegistry | null = null;
let binaries: PrebuiltBinaries | null = null;
const running: Child[] = [];

/**
 * A user's shell: the test's environment without what npm, vitest or the repository put into it
 * (npm_* settings, the repository's node_modules/.bin on the PATH, Sagaflow settings), then the
 * local registry, an npm cache of the test's own, the release host double and the test's NATS
 * server. `npm_config_yes` is the "y" a user types when npx asks to install sagaflow.
 */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const dropped = /^(npm_|INIT_CWD$|NODE_OPTIONS$|NODE_ENV$|TSX_|VITEST|SAGAFLOW_|NATS_|FORCE_COLOR$)/iu;
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !dropped.test(name)));
  const path = (process.env.PATH ?? '').split(delimiter).filter((dir) => !dir.startsWith(repoRoot));
  return {
    ...env,
    PATH: path.join(delimiter),
    npm_config_cache: join(work, 'npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_yes: 'true',
    ...(registry === null ? {} : { npm_config_registry: registry.url }),
    ...binaries?.env,
    NATS_URL: inject('natsUrl'),
    ...extra,
  };
}

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one command line in bash, as a user types it, to its end. */
function sh(line: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', line], { cwd, env, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

/** Runs a command line that must succeed; its stdout. */
async function ok(line: string, cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const ran = await sh(line, cwd, env);
  if (ran.code !== 0) throw new Error(`"${line}" in ${cwd} exited ${ran.code}:\n${ran.stdout}\n${ran.stderr}`);
  return ran.stdout;
}

/** Starts a long-running command line in its own process group (stopped with the group in afterAll). */
function background(line: string, cwd: string, env: NodeJS.ProcessEnv): Child {
  const child = spawnProgram('bash', ['-c', line], env, { cwd, detached: true });
  running.push(child);
  return child;
}

async function stopGroup(child: Child): Promise<void> {
  if (!isRunning(child) || child.process.pid === undefined) return;
  const group = -child.process.pid;
  process.kill(group, 'SIGTERM');
  const timer = setTimeout(() => {
    try {
      process.kill(group, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 10_000);
  await child.exited;
  clearTimeout(timer);
}

/** Repeats `line` until its stdout matches `pattern`; the last stdout. */
async function until(line: string, pattern: RegExp, cwd: string, env: NodeJS.ProcessEnv, processes: readonly Child[]): Promise<string> {
  let last: Ran = { code: -1, stdout: '', stderr: '' };
  for (let i = 0; i < 120; i++) {
    last = await sh(line, cwd, env);
    if (pattern.test(last.stdout)) return last.stdout;
    for (const child of processes) {
      if (!isRunning(child)) throw new Error(`a process exited (${String(child.process.exitCode)}): ${child.lines.join('\n')}\n${child.stderr.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`"${line}" never printed ${String(pattern)}; last: ${last.stdout}${last.stderr}\n${processes.map((child) => child.lines.join('\n') + child.stderr.join('')).join('\n')}`);
}

/** The files of `@sagaflow/*` and `sagaflow` that the project's tsc read. */
async function sagaflowFilesSeenByTsc(cwd: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const listed = await ok('npx tsc --noEmit --listFilesOnly', cwd, env);
  return listed.split('\n').filter((file) => /\/node_modules\/(@sagaflow\/[^/]+|sagaflow)\//u.test(file));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'sagaflow-install-'));
  tarballs = await packWorkspaces(join(work, 'tarballs'), userEnv());
  binaries = await servePrebuiltBinaries(join(work, 'release-host'));
  registry = await startLocalRegistry(join(work, 'registry'));
  const publishing = userEnv();
  for (const tarball of tarballs) await registry.publish(tarball.path, publishing);
}, 300_000);

afterAll(async () => {
  await Promise.all(running.map(stopGroup));
  await registry?.stop();
  await binaries?.stop();
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe('the packages', () => {
  it('are every workspace, publishable: not private, MIT, Node >= 20.11, exports with types and import into dist/', () => {
    expect(tarballs.map((tarball) => tarball.manifest.name).sort()).toEqual([
      '@sagaflow/barrier',
      '@sagaflow/cli',
      '@sagaflow/console',
      '@sagaflow/core',
      '@sagaflow/engine',
      '@sagaflow/inspect',
      '@sagaflow/nats',
      '@sagaflow/outbox',
      '@sagaflow/store-eventstoredb',
      '@sagaflow/store-sqlite',
      '@sagaflow/telemetry',
      '@sagaflow/worker',
      'sagaflow',
    ]);
    for (const { manifest } of tarballs) {
      expect(manifest.private, manifest.name).toBeUndefined();
      expect(manifest.license, manifest.name).toBe('MIT');
      expect(manifest.engines?.node, manifest.name).toBe('>=20.11');
      expect(manifest.exports, manifest.name).toMatchObject({ '.': { types: './dist/index.d.ts', import: './dist/index.js' } });
      // No TypeScript source behind any export: a user's tsc sees the built .d.ts, Node the built .js.
      for (const target of exportTargets(manifest.exports)) expect(target, manifest.name).toMatch(/^\.\/(dist\/.+\.(js|d\.ts)|bin\/.+\.js|package\.json)$/u);
    }
  });

  it('hold their compiled JavaScript, declarations, source maps, README, LICENSE and CHANGELOG, and nothing else', () => {
    for (const { manifest, files } of tarballs) {
      const allowed = /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|bin\/[\w-]+\.js|dist\/[\w/-]+\.(js|d\.ts|js\.map)|dist\/ui\/[\w./-]+\.(html|css|js)|templates\/project\/.+)$/u;
      expect(files.filter((file) => !allowed.test(file)), manifest.name).toEqual([]);
      expect(files.filter((file) => /(^|\/)(tests?|fixtures?)(\/|$)|\.test\.|\.tsbuildinfo$/u.test(file)), manifest.name).toEqual([]);
      expect(files, manifest.name).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts', 'dist/index.js.map']));
      for (const bin of Object.values(manifest.bin ?? {})) expect(files, manifest.name).toContain(bin);
    }
  });

  it('declare every package their JavaScript imports, and depend on each other at their own version', () => {
    for (const tarball of tarballs) {
      const { name, version, dependencies = {}, peerDependencies = {} } = tarball.manifest;
      const declared = new Set([...Object.keys(dependencies), ...Object.keys(peerDependencies)]);
      expect(importedPackages(tarball).filter((imported) => !declared.has(imported)), name).toEqual([]);
      for (const [dependency, range] of Object.entries(dependencies)) {
        if (dependency.startsWith('@sagaflow/')) expect(range, `${name} → ${dependency}`).toBe(version);
      }
    }
  });
});

describe('README "Install in your project"', () => {
  it('comes first after the two set-up commands', () => {
    expect(readmeSections()[0]).toBe('Install in your project');
  });

  it('a new project: sagaflow init, npm install, npm run dev, then start and show; the order completes', async () => {
    expect(newProjectCommands).toEqual([
      'npx sagaflow init my-sagas',
      'cd my-sagas && npm install && docker compose up -d',
      'npm run dev',
      'npx sagaflow start order --id o-1 --input @order.json',
      'npx sagaflow show o-1',
    ]);
    const [init = '', install = '', dev = '', start = '', show = ''] = newProjectCommands;
    const home = join(work, 'new-project');
    mkdirSync(home, { recursive: true });
    const env = userEnv({ SAGAFLOW_NAMESPACE: 'installinit' });

    const created = await ok(init, home, env);
    // What init prints next is what the README says to run.
    const next = created.split('\n').slice(created.split('\n').indexOf('Next:') + 1).filter((line) => line.trim() !== '');
    expect(next.map((line) => line.replace(/\s+#.*$/u, '').trim())).toEqual([install, dev, start]);
    const project = join(home, 'my-sagas');
    expect(readFileSync(join(project, 'docker-compose.yml'), 'utf8')).toMatch(/--jetstream[\s\S]*"4222:4222"/u);
    expect(JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'))).toMatchObject({ name: 'my-sagas', dependencies: { sagaflow: `^${tarballs[0]?.manifest.version ?? ''}` } });
    expect(readFileSync(join(project, 'README.md'), 'utf8').trimEnd().split('\n')).toHaveLength(5);

    await ok(install.replace(' && docker compose up -d', ''), home, env);
    await ok('npm run typecheck', project, env);
    const seen = await sagaflowFilesSeenByTsc(project, env);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((file) => !/\/dist\/.+\.d\.ts$/u.test(file))).toEqual([]);

    const engineAndWorker = background(dev, project, env);
    await engineAndWorker.waitFor(/\[engine\].*engine ready: .*sagas order@1/u, 90_000);
    await engineAndWorker.waitFor(/\[worker\] worker ready/u, 30_000);
    expect((await ok(start, project, env)).trim()).toBe('o-1');
    const shown = await until(show, /status\s+completed/u, project, env, [engineAndWorker]);
    expect(shown).toMatch(/StepSucceeded\s+step\s+reserveStock/u);
    expect(shown).toMatch(/StepSucceeded\s+step\s+chargeCard/u);

    // A declined card releases the stock: the compensation runs through the same worker and barrier.
    writeFileSync(join(project, 'big-order.json'), JSON.stringify({ orderId: 'o-2', sku: 'piano', quantity: 1, amountCents: 900_000 }));
    await ok('npx sagaflow start order --id o-2 --input @big-order.json', project, env);
    await until('npx sagaflow show o-2', /status\s+compensated/u, project, env, [engineAndWorker]);
    const db = new Database(join(project, 'worker.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT order_id, released FROM reservations ORDER BY order_id').all()).toEqual([
        { order_id: 'o-1', released: 0 },
        { order_id: 'o-2', released: 1 },
      ]);
      expect(db.prepare('SELECT order_id, refunded FROM charges').all()).toEqual([{ order_id: 'o-1', refunded: 0 }]);
    } finally {
      db.close();
    }
    await stopGroup(engineAndWorker);
    // npm install builds better-sqlite3 from source where no prebuilt binary downloads (~75 s of the
    // 100-118 s this takes on two idle cores): its subject is the install path, not its speed.
  }, 300_000);

  it('an existing service: npm install sagaflow; its own tsc typechecks the saga and worker of the README; engine and workers run compiled', async () => {
    expect(existingServiceCommands).toEqual(['npm install sagaflow better-sqlite3', 'npm install --save-dev typescript @types/node @types/better-sqlite3']);
    const service = join(work, 'existing-service');
    mkdirSync(service, { recursive: true });
    writeFileSync(join(service, 'package.json'), `${JSON.stringify({ name: 'existing-service', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
    const env = userEnv({ SAGAFLOW_NAMESPACE: 'installservice' });
    for (const command of existingServiceCommands) await ok(command, service, env);

    // The saga and the worker exactly as the README writes them, the services it leaves out, and a tsconfig.
    for (const title of ['Write a saga', 'Write a worker']) {
      for (const code of codeBlocks(readmeSection(title), 'ts')) {
        const path = /^\/\/ (\S+\.ts)\n/u.exec(code)?.[1] ?? '';
        mkdirSync(dirname(join(service, path)), { recursive: true });
        writeFileSync(join(service, path), code);
      }
    }
    writeFileSync(join(service, 'other-services.ts'), otherServices);
    writeFileSync(join(service, 'tsconfig.json'), JSON.stringify(serviceTsconfig, null, 2));
    await ok('npx tsc', service, env);
    const seen = await sagaflowFilesSeenByTsc(service, env);
    expect(seen.filter((file) => !/\/dist\/.+\.d\.ts$/u.test(file))).toEqual([]);

    // Plain Node, no loader: the packages are JavaScript.
    expect((await ok(`node -e "import('@sagaflow/core').then((core) => console.log(typeof core.saga))"`, service, env)).trim()).toBe('function');

    // The engine loads sagas/*.saga.ts as they are (through tsx, registered by the CLI); the workers run as tsc compiled them.
    const engine = background('npx sagaflow run', service, env);
    await engine.waitFor(/engine ready: .*sagas order-fulfilment@1/u, 60_000);
    const workers = [background('node dist/payment-worker.js', service, env), background('node dist/other-services.js', service, env)];
    await workers[1]?.waitFor(/^other services ready$/u, 30_000);

    // `start` reads compiled sagas as well: dist/sagas/order-fulfilment.saga.js.
    const order = (orderId: string, amountCents: number) => ({ orderId, customerId: 'c-1', items: [{ sku: 'sku-1', quantity: 1 }], amountCents, address: '1 Main Street' });
    writeFileSync(join(service, 'paid.json'), JSON.stringify(order('o-paid', 4_200)));
    writeFileSync(join(service, 'declined.json'), JSON.stringify(order('o-declined', 250_000)));
    await ok('npx sagaflow start order-fulfilment --id o-paid --input @paid.json --sagas dist/sagas', service, env);
    await ok('npx sagaflow start order-fulfilment --id o-declined --input @declined.json', service, env);
    const processes = [engine, ...workers];
    await until('npx sagaflow show o-paid --json', /"status": "completed"/u, service, env, processes);
    await until('npx sagaflow show o-declined --json', /"status": "compensated"/u, service, env, processes);

    const db = new Database(join(service, 'payment.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT order_id, refunded FROM payments ORDER BY order_id').all()).toEqual([{ order_id: 'o-paid', refunded: 0 }]);
    } finally {
      db.close();
    }
    await Promise.all(processes.map(stopGroup));
  });
});

describe('the Docker image', () => {
  it('is assembled from the compiled packages with production dependencies only, and runs the order saga without tsx', async () => {
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^RUN npm ci && scripts\/image-app\.sh \/app\b/mu);
    expect(dockerfile).toMatch(/^COPY --from=build \/app \/app$/mu);
    const app = join(work, 'image-app');
    // No local registry: every @sagaflow/* package must come from its tarball, as in the image build.
    const { npm_config_registry: _registry, ...env } = userEnv({ SAGAFLOW_NAMESPACE: 'installimage' });
    await ok(`scripts/image-app.sh ${app}`, repoRoot, env);

    const installed = JSON.parse(await ok('npm ls --all --json', app, env)) as { dependencies?: Record<string, unknown> };
    const names = JSON.stringify(installed);
    for (const devOnly of ['"typescript"', '"vitest"', '"eslint"', '"verdaccio"', '"@changesets/cli"']) expect(names).not.toContain(devOnly);
    const sources = (await ok(`find . -path ./node_modules -prune -o -name '*.ts' -print`, app, env)).trim();
    expect(sources).toBe('');

    const sagaflowBin = join(app, 'node_modules/.bin/sagaflow');
    const engine = background(`${sagaflowBin} run --sagas sagas --store sqlite:${join(app, 'engine.db')}`, app, env);
    await engine.waitFor(/engine ready: .*sagas money-transfer@1, order-fulfilment@1, trip-booking@1/u, 60_000);
    const workers = ['inventory', 'payment', 'shipping'].map((service) =>
      background(`node examples/order-fulfilment/worker.js --service ${service} --db ${join(app, `${service}.db`)}`, app, env),
    );
    for (const worker of workers) await worker.waitFor(/^worker ready$/u, 30_000);
    await ok(`${sagaflowBin} start order-fulfilment --id image-1 --input @examples/order-fulfilment/order.json`, app, env);
    await until(`${sagaflowBin} show image-1 --store sqlite:${join(app, 'engine.db')} --json`, /"status": "completed"/u, app, env, [engine, ...workers]);
    expect(engine.lines.join('\n') + engine.stderr.join('')).not.toMatch(/tsx/u);
    await Promise.all([engine, ...workers].map(stopGroup));
  });
});

/** The inventory and shipping services of the README's saga, for the existing service to run beside its payment worker. */
const otherServices = `import { connectNats, createWorker, natsSettingsFromEnv } from 'sagaflow';
import orderFulfilment, { createShipment, reserveInventory } from './sagas/order-fulfilment.saga.js';

const connection = await connectNats(natsSettingsFromEnv());
const worker = createWorker({ connection, saga: orderFulfilment, namespace: process.env.SAGAFLOW_NAMESPACE })
  .step(reserveInventory, (command) => ({ reservationId: \`res-\${command.orderId}\` }))
  .compensation(reserveInventory, () => undefined)
  .step(createShipment, (command) => ({ trackingNumber: \`trk-\${command.orderId}\` }));
await worker.start();
console.log('other services ready');
`;

const serviceTsconfig = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    types: ['node'],
    rootDir: '.',
    outDir: 'dist',
  },
  include: ['sagas', '*.ts'],
};
