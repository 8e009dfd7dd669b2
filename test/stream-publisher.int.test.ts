/** JetStream publishes acknowledged on one shared inbox, against a real nats-server. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { StreamPublisher, StreamPublishError, streamPublisher } from '@sagaflow/nats';
import { startNatsServer } from './support/nats-server.js';

let nc: NatsConnection;
let jsm: JetStreamManager;
let stream: string;
let subject: string;

beforeEach(async () => {
  nc = await connect({ servers: inject('natsUrl') });
  jsm = await jetstreamManager(nc);
  const tag = randomBytes(4).toString('hex');
  stream = `PUBTEST_${tag}`.toUpperCase();
  subject = `pubtest.${tag}`;
  await jsm.streams.add({ name: stream, subjects: [`${subject}.>`], duplicate_window: 60e9 });
});

afterEach(async () => {
  if (!nc.isClosed()) {
    await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  }
});

describe('stream publisher', () => {
  it('resolves with the stream and sequence once stored, in order, for many publishes at once', async () => {
    const publisher = streamPublisher(nc);
    const acks = await Promise.all(Array.from({ length: 500 }, (_, i) => publisher.publish(`${subject}.a`, `m${i}`)));
    expect(acks.map((ack) => ack.stream)).toEqual(Array.from({ length: 500 }, () => stream));
    expect(acks.map((ack) => ack.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect((await jsm.streams.info(stream)).state.messages).toBe(500);
  });

  it('writes what was queued in one turn together, in order, and flushed() waits for it', async () => {
    const publisher = streamPublisher(nc);
    const order: string[] = [];
    const sub = nc.subscribe('pubtest.plain.>', { callback: (_, msg) => void order.push(msg.string()) });
    await nc.flush();
    for (let i = 0; i < 5; i++) publisher.send(() => nc.publish('pubtest.plain.x', `w${i}`));
    publisher.send(() => {
      throw new Error('a write that fails');
    });
    publisher.send(() => nc.publish('pubtest.plain.x', 'after the failure'));
    expect(order).toEqual([]); // queued, not yet written
    await publisher.flushed();
    await nc.flush();
    expect(order).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'after the failure']);
    sub.unsubscribe();
  });

  it('stores a message id once and says so', async () => {
    const publisher = streamPublisher(nc);
    const first = await publisher.publish(`${subject}.a`, 'one', { msgID: 'effect-1' });
    const again = await publisher.publish(`${subject}.a`, 'one', { msgID: 'effect-1' });
    expect(first).toEqual({ stream, seq: 1, duplicate: false });
    expect(again).toEqual({ stream, seq: 1, duplicate: true });
    expect((await jsm.streams.info(stream)).state.messages).toBe(1);
  });

  it('rejects, naming the subject, when no stream takes the subject', async () => {
    const error = await streamPublisher(nc).publish('pubtest.nowhere.x', 'lost').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamPublishError);
    expect((error as Error).message).toBe('publish to pubtest.nowhere.x: no stream listens on this subject (no responders)');
  });

  it('rejects with the server reason when the expected stream is another', async () => {
    const error = await streamPublisher(nc)
      .publish(`${subject}.a`, 'x', { expectStream: 'SOME_OTHER' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamPublishError);
    expect((error as Error).message).toMatch(/^publish to pubtest\.\w+\.a: refused by the stream: expected stream does not match \(400\)$/);
    expect((await jsm.streams.info(stream)).state.messages).toBe(0);
  });

  it('rejects after its timeout when something answers no acknowledgement', async () => {
    const silent = nc.subscribe('pubtest.silent.>'); // a responder that never replies: no 503, no ack
    const publisher = new StreamPublisher(nc, 300);
    const started = Date.now();
    const error = await publisher.publish('pubtest.silent.x', 'x').catch((e: unknown) => e);
    expect((error as Error).message).toBe('publish to pubtest.silent.x: no acknowledgement from the stream within 300 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    silent.unsubscribe();
  });

  it('rejects waiting and later publishes once its connection closes', async () => {
    const silent = nc.subscribe('pubtest.silent.>');
    const publisher = streamPublisher(nc);
    const waiting = publisher.publish('pubtest.silent.y', 'x').catch((e: unknown) => e);
    await publisher.flushed(); // written, and the silent responder has it
    silent.unsubscribe();
    await jsm.streams.delete(stream);
    await nc.close();
    expect(((await waiting) as Error).message).toBe('publish to pubtest.silent.y: the connection is closed');
    const later = await publisher.publish(`${subject}.a`, 'x').catch((e: unknown) => e);
    expect((later as Error).message).toBe(`publish to ${subject}.a: the connection is closed`);
  });
});

describe('stream publisher on an account that may subscribe only under its own inbox prefix', () => {
  it('takes its acknowledgements under the connection inboxPrefix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pubtest-perms-'));
    const config = join(dir, 'server.conf');
    writeFileSync(
      config,
      `authorization { users: [ { user: app, password: pw, permissions: { publish: ">", subscribe: ["_INBOX_app.>", "pubtest.>"] } } ] }\n`,
    );
    const server = await startNatsServer({ args: ['-c', config] });
    const conn = await connect({ servers: server.url, user: 'app', pass: 'pw', inboxPrefix: '_INBOX_app' });
    try {
      const manager = await jetstreamManager(conn);
      await manager.streams.add({ name: 'PERMS', subjects: ['pubtest.perms.>'] });
      const ack = await streamPublisher(conn).publish('pubtest.perms.a', 'x', { msgID: 'm-1' });
      expect(ack).toEqual({ stream: 'PERMS', seq: 1, duplicate: false });
    } finally {
      await conn.close();
      await server.stop();
      server.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
