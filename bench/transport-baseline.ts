/**
 * The transport baseline: the same JetStream round trips per saga as Sagaflow makes, with no engine
 * (no store, no decisions, no codecs). Same streams, subjects and consumers as a Sagaflow namespace
 * (`ensureStreams`, the reply and start consumers over every partition that `renewWideConsumers` makes
 * for an engine holding them all, `ensureOperationConsumer`), two processes as Sagaflow has:
 *
 *   --role relay   stands in for the engine: consumes start requests and replies; on a start it announces
 *                  `running` and publishes the first command; on each reply it publishes the next command
 *                  (announcing `compensating` when the failing step replies), and at the end announces
 *                  `completed` or `compensated` on `<ns>.evt.bench-order.<status>`.
 *   --role echo    stands in for the worker: consumes the 5 operations' commands, publishes a reply to the
 *                  replies stream, and acknowledges the command once the reply is stored.
 *
 * Commands and replies are JetStream publishes acknowledged by the stream; status events are plain
 * publishes into the events stream; both as the engine and the worker make them.
 * W1 (failShipment false): start + 3 commands + 3 replies, 2 status events. W2: start + 5 commands
 * (reserve, charge, ship, refund, release) + 5 replies, 3 status events; as Sagaflow.
 * Usage: transport-baseline.ts --role relay|echo --nats URL --namespace NS. Prints `<role> ready`.
 */
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { partitionOf } from '@sagaflow/core';
import { connectNats, ensureOperationConsumer, ensureStreams, naming, renewWideConsumers, streamPublisher } from '@sagaflow/nats';
import { stopRequested } from '../examples/shared/stop-signal.js';

const { values } = parseArgs({ options: { role: { type: 'string' }, nats: { type: 'string' }, namespace: { type: 'string' } } });
const role = values.role;
if (role !== 'relay' && role !== 'echo') throw new Error('--role relay|echo');
const saga = 'bench-order';
const names = naming(values.namespace ?? 'baseline');
const connection = await connectNats({ url: values.nats ?? 'nats://127.0.0.1:4222', name: `baseline-${role}` });
const js = jetstream(connection);
// Publishes the way Sagaflow's engine and worker do (acknowledgements on a shared inbox), so the
// baseline stays the practical limit of the transport rather than of one client API.
const publisher = streamPublisher(connection);
const jsm = await jetstreamManager(connection);
const { partitions } = await ensureStreams(jsm, names);
const happy = ['reserveInventory', 'chargePayment', 'createShipment'];
const failing = ['reserveInventory', 'chargePayment', 'createShipment', 'refundPayment', 'releaseInventory'];
const operations = failing;
const loops: ConsumerMessages[] = [];
const encoder = new TextEncoder();
const json = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));
const warn = (error: unknown): void => void process.stderr.write(`baseline ${role}: ${error instanceof Error ? error.message : String(error)}\n`);

interface Work {
  readonly instanceId: string;
  readonly fail: boolean;
  readonly index: number;
}

async function consume(stream: string, durable: string, handle: (msg: JsMsg) => Promise<void> | void, max = 200): Promise<void> {
  const consumer = await js.consumers.get(stream, durable);
  const messages = await consumer.consume({ max_messages: max });
  loops.push(messages);
  void (async () => {
    for await (const msg of messages) void Promise.resolve(handle(msg)).catch(warn);
  })();
}

const announce = (instanceId: string, status: string): void => {
  connection.publish(names.event(saga, status), json({ instanceId, saga, status }));
};
const dispatch = (work: Work): void => {
  const ops = work.fail ? failing : happy;
  const operation = ops[work.index] ?? 'none';
  publisher.publish(names.command(saga, operation), json(work), { msgID: `${work.instanceId}/${operation}/1` }).catch(warn);
};

if (role === 'relay') {
  const onStart = (msg: JsMsg): void => {
    const start = msg.json<{ instanceId: string; input: { failShipment: boolean } }>();
    announce(start.instanceId, 'running');
    dispatch({ instanceId: start.instanceId, fail: start.input.failShipment, index: 0 });
    publisher.send(() => msg.ack());
  };
  const onReply = (msg: JsMsg): void => {
    const reply = msg.json<Work>();
    const ops = reply.fail ? failing : happy;
    const next = reply.index + 1;
    if (reply.fail && reply.index === 2) announce(reply.instanceId, 'compensating');
    if (next < ops.length) dispatch({ ...reply, index: next });
    else announce(reply.instanceId, reply.fail ? 'compensated' : 'completed');
    publisher.send(() => msg.ack());
  };
  await renewWideConsumers(jsm, names, partitions);
  await consume(names.streams.replies, names.wideReplyConsumer, onReply);
  await consume(names.streams.starts, names.wideStartConsumer, onStart);
} else {
  for (const operation of operations) {
    const durable = await ensureOperationConsumer(jsm, names, saga, operation);
    await consume(names.streams.commands, durable, async (msg) => {
      const work = msg.json<Work>();
      await publisher.publish(names.reply(saga, partitionOf(work.instanceId, partitions)), msg.data, { msgID: `${work.instanceId}/${operation}/1` });
      publisher.send(() => msg.ack());
    }, 100);
  }
}
process.stdout.write(`${role} ready\n`);
await stopRequested();
for (const messages of loops) await messages.close();
await connection.drain();
