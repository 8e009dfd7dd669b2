/**
 * The README's walkthrough, followed literally: the ```ts blocks of "Write a saga" and "Write a
 * worker" (each opening with `// <path>`, the file it is) are written to a folder inside the
 * repository (so their imports resolve as in a project), typechecked as strictly as the repository
 * is, and run: the worker snippet serves its steps over a real NATS server for an engine running
 * the saga snippet. The docs cannot drift from the code.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMemoryEventStore, createRegistry, decodeStream, StepFailure, isTerminal, type AnySagaDefinition, type EventStore, type SagaStatus } from '@sagaflow/core';
import { Engine } from '@sagaflow/engine';
import type * as OrderSaga from '../sagas/order-fulfilment.saga.js';
import { connectNats, createNatsTransport, naming } from '@sagaflow/nats';
import { createWorker } from '@sagaflow/worker';
import { isRunning, spawnTs, stopChild, type Child } from '../examples/demo/processes.js';
import { codeBlocks, readmeSection } from './support/readme.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** The ```ts blocks of the README section titled `title`, each with the path its first line names. */
function snippets(title: string): { path: string; code: string }[] {
  return codeBlocks(readmeSection(title), 'ts').map((code) => {
    const path = /^\/\/ (\S+\.ts)\n/u.exec(code)?.[1];
    if (path === undefined) throw new Error(`A ts snippet of "## ${title}" does not open with "// <file>.ts": ${code.slice(0, 80)}`);
    return { path, code };
  });
}

/** Code without its comment-only and blank lines. */
const withoutComments = (code: string): string =>
  code
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '' && !/^\s*(\/\/|\/\*\*?|\*)/u.test(line))
    .join('\n');

const sagaSnippets = snippets('Write a saga');
const workerSnippets = snippets('Write a worker');
const reliableStartSnippets = snippets('Reliable start');
let dir = '';

beforeAll(() => {
  mkdirSync(join(repoRoot, '.sagaflow'), { recursive: true });
  dir = mkdtempSync(join(repoRoot, '.sagaflow', 'readme-'));
  for (const { path, code } of [...sagaSnippets, ...workerSnippets, ...reliableStartSnippets]) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), code);
  }
  // The outbox snippet imports the money-transfer saga, as a reader's project would have it.
  copyFileSync(join(repoRoot, 'sagas/money-transfer.saga.ts'), join(dir, 'sagas/money-transfer.saga.ts'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README walkthrough', () => {
  it('has one saga snippet and one worker snippet, the saga being sagas/order-fulfilment.saga.ts (comments aside)', () => {
    expect(sagaSnippets.map((snippet) => snippet.path)).toEqual(['sagas/order-fulfilment.saga.ts']);
    expect(workerSnippets.map((snippet) => snippet.path)).toEqual(['payment-worker.ts']);
    const file = readFileSync(join(repoRoot, 'sagas/order-fulfilment.saga.ts'), 'utf8');
    expect(withoutComments(sagaSnippets[0]?.code ?? ''), "README's saga and sagas/order-fulfilment.saga.ts differ: update one or the other").toBe(withoutComments(file));
  });

  it('the snippets typecheck with the repository compiler settings (strict, noUncheckedIndexedAccess)', () => {
    const configPath = join(dir, 'tsconfig.json');
    const base = relative(dir, join(repoRoot, 'tsconfig.base.json'));
    writeFileSync(
      configPath,
      JSON.stringify({ extends: base, compilerOptions: { noEmit: true, composite: false, declaration: false, emitDeclarationOnly: false, rootDir: '.' }, include: ['**/*.ts'] }),
    );
    const host: ts.ParseConfigFileHost = {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    };
    const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, host);
    if (parsed === undefined) throw new Error('cannot read the generated tsconfig.json');
    expect(parsed.fileNames.map((file) => relative(dir, file)).sort()).toEqual(['outbox-upstream.ts', 'payment-worker.ts', 'sagas/money-transfer.saga.ts', 'sagas/order-fulfilment.saga.ts', 'transfer-upstream.ts']);
    const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
    // The snippets' own errors: the packages they import are checked by `tsc -b`.
    const diagnostics = ts.getPreEmitDiagnostics(program).filter((diagnostic) => diagnostic.file === undefined || diagnostic.file.fileName.startsWith(dir));
    const text = ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (name) => name, getCurrentDirectory: () => dir, getNewLine: () => '\n' });
    expect(text).toBe('');
  });

  describe('the worker snippet, run against a real NATS server', () => {
    const namespace = `readme${Math.random().toString(36).slice(2, 10)}`;
    let worker: Child | null = null;
    let connection: NatsConnection | null = null;
    let stop: (() => Promise<void>) | null = null;
    afterAll(async () => {
      await stop?.();
      if (worker !== null) await stopChild(worker, 2000);
      await connection?.close();
    });

    it('charges, declines and refunds as the saga snippet asks, each behind the barrier', async () => {
      const natsUrl = inject('natsUrl');
      // What the reader runs: node --import tsx payment-worker.ts, in their project folder; on the
      // repository's sources (the root tsconfig.json's paths), as the tests run. test/install.e2e.test.ts
      // runs it again in a project of its own, on the packages as published.
      const env = { ...process.env, NATS_URL: natsUrl, SAGAFLOW_NAMESPACE: namespace, TSX_TSCONFIG_PATH: join(repoRoot, 'tsconfig.json') };
      worker = spawnTs(join(dir, 'payment-worker.ts'), [], { cwd: dir, env });

      // The engine and the other services of the saga snippet, in this process.
      const sagaModule = (await import(pathToFileURL(join(dir, 'sagas/order-fulfilment.saga.ts')).href)) as typeof OrderSaga;
      const saga: AnySagaDefinition = sagaModule.default;
      connection = await connectNats({ url: natsUrl, name: 'readme-walkthrough' });
      const names = naming(namespace);
      const jsm = await jetstreamManager(connection);
      const transport = await createNatsTransport({ connection, namespace });
      const store: EventStore = createMemoryEventStore();
      const engine = new Engine({ store, registry: createRegistry([saga]), transport });
      const others = createWorker({ connection, saga: sagaModule.default, namespace })
        .step(sagaModule.reserveInventory, (command) => ({ reservationId: `res-${command.orderId}` }))
        .compensation(sagaModule.reserveInventory, () => undefined)
        .step(sagaModule.createShipment, (command) => {
          if (command.address === 'nowhere') throw new StepFailure('AddressUnknown', 'no such address');
          return { trackingNumber: `trk-${command.orderId}` };
        });
      stop = async () => {
        await others.stop();
        await transport.close();
        await engine.stop();
      };
      await engine.start();
      await others.start();

      // The snippet's consumers exist once it has started.
      for (let i = 0; ; i++) {
        if (!isRunning(worker)) throw new Error(`payment-worker.ts exited: ${worker.stderr.join('')}`);
        const found = await Promise.all(
          ['chargePayment', 'refundPayment'].map((operation) =>
            jsm.consumers.info(names.streams.commands, names.operationConsumer(saga.name, operation)).then(
              () => true,
              () => false,
            ),
          ),
        );
        if (found.every(Boolean)) break;
        if (i > 300) throw new Error(`payment-worker.ts did not start consuming in 30 s: ${worker.stderr.join('')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      const order = (orderId: string, amountCents: number, address = '1 Main Street') => ({ orderId, customerId: 'c-1', items: [{ sku: 'sku-1', quantity: 1 }], amountCents, address });
      for (const [id, input] of [
        ['o-paid', order('o-paid', 4_200)],
        ['o-declined', order('o-declined', 250_000)],
        ['o-refunded', order('o-refunded', 5_000, 'nowhere')],
      ] as const) {
        const started = await engine.startSaga(saga.name, id, input);
        expect(started._tag).toBe('Right');
      }
      const statuses = async (): Promise<Record<string, SagaStatus | undefined>> =>
        Object.fromEntries(await Promise.all(['o-paid', 'o-declined', 'o-refunded'].map(async (id) => [id, (await store.getInstance(id))?.status] as const)));
      for (let i = 0; !Object.values(await statuses()).every((status) => status !== undefined && isTerminal(status)); i++) {
        if (i > 300) throw new Error(`not finished in 30 s: ${JSON.stringify(await statuses())}; worker stderr: ${worker.stderr.join('')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await statuses()).toEqual({ 'o-paid': 'completed', 'o-declined': 'compensated', 'o-refunded': 'compensated' });
      const failures = async (id: string): Promise<string[]> => {
        const events = decodeStream(await store.readStream(id));
        return E.isRight(events) ? events.right.flatMap((event) => (event.type === 'StepFailed' ? [`${event.step}: ${event.error.code}`] : [])) : [events.left.message];
      };
      expect(await failures('o-declined')).toEqual(['chargePayment: PaymentDeclined']);
      expect(await failures('o-refunded')).toEqual(['createShipment: AddressUnknown']);

      const db = new Database(join(dir, 'payment.db'), { readonly: true });
      try {
        expect(db.prepare('SELECT order_id, amount, refunded FROM payments ORDER BY order_id').all()).toEqual([
          { order_id: 'o-paid', amount: 4_200, refunded: 0 },
          { order_id: 'o-refunded', amount: 5_000, refunded: 1 },
        ]);
        const keys = db.prepare<[], { key: string }>('SELECT key FROM sagaflow_barrier ORDER BY key').all().map((row) => row.key);
        expect(keys).toEqual(['o-declined/chargePayment/action', 'o-paid/chargePayment/action', 'o-refunded/chargePayment/action', 'o-refunded/chargePayment/compensation']);
      } finally {
        db.close();
      }
    });
  });
});
