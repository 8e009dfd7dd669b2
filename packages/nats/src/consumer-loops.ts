import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';

/** The consume loops of a piece of intake, and the handling of their messages still in progress. */
export interface Loops {
  readonly loops: ConsumerMessages[];
  readonly inFlight: Set<Promise<void>>;
}

export const newLoops = (): Loops => ({ loops: [], inFlight: new Set() });

/** Consumes a durable consumer into `into`, handling each message as it comes (up to 200 pulled at once). */
export async function pump(js: JetStreamClient, stream: string, durable: string, into: Loops, handle: (msg: JsMsg) => Promise<void>): Promise<void> {
  const consumer = await js.consumers.get(stream, durable);
  const messages = await consumer.consume({ max_messages: 200 });
  into.loops.push(messages);
  void (async () => {
    for await (const msg of messages) {
      const work = handle(msg);
      into.inFlight.add(work);
      // The handlers settle their message themselves (ack, nak or dead letter); one that throws leaves it
      // unacknowledged, so JetStream redelivers it after ack_wait. Either way only the bookkeeping is left.
      const forget = (): void => void into.inFlight.delete(work);
      work.then(forget, forget);
    }
  })();
}

/** Ends the loops, then waits for the messages being handled. */
export async function stopLoops(of: Loops): Promise<void> {
  for (const messages of of.loops.splice(0)) await messages.close();
  await Promise.allSettled([...of.inFlight]);
}
