import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { DeadLetterGoneError, deadLetterOrGone, dropDeadLetter, listDeadLetters, payloadView, replayDeadLetter, type DeadLetter } from '@sagaflow/nats';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { changer, csrfChecked } from '../access.js';
import { refuse, type ConsoleContext } from '../context.js';
import { audit } from '../audit.js';

/** A dead letter as the list shows it (no payload). */
const letterRow = (letter: DeadLetter) => ({
  sequence: letter.sequence,
  reason: letter.reason,
  deliveries: letter.deliveries,
  deadAt: letter.deadAt > 0 ? letter.deadAt : null,
  originSubject: letter.originSubject,
  instanceId: letter.instanceId,
  effectId: letter.effectId,
  size: letter.data.length,
});

const sequenceOf = (text: string): number | null => (/^\d{1,15}$/u.test(text) && Number(text) > 0 ? Number(text) : null);

/** The Dead letters page: list, inspect, replay, discard — what `sagaflow dlq` does, with a reason recorded for each change. */
export function deadLetterRoutes(app: FastifyInstance, context: ConsoleContext): void {
  const { names } = context;
  const gone = (reply: FastifyReply, error: unknown): FastifyReply => {
    if (error instanceof DeadLetterGoneError) return refuse(reply, 404, error._tag, error.message);
    throw error;
  };

  app.get<{ Querystring: { after?: string; limit?: string } }>('/api/dead-letters', async (request, reply) => {
    const after = request.query.after === undefined ? 0 : /^\d{1,15}$/u.test(request.query.after) ? Number(request.query.after) : null;
    const limit = request.query.limit === undefined ? 50 : /^\d{1,3}$/u.test(request.query.limit) ? Number(request.query.limit) : null;
    if (after === null) return refuse(reply, 400, 'BadRequest', `after takes a dead letter's sequence number, not "${request.query.after ?? ''}"`);
    if (limit === null || limit < 1 || limit > 200) return refuse(reply, 400, 'BadRequest', `limit takes a whole number from 1 to 200, not "${request.query.limit ?? ''}"`);
    const jsm = await jetstreamManager(context.connection);
    const letters = await listDeadLetters(jsm, names, { after, limit: limit + 1 }).catch((error: unknown) => {
      if (error instanceof Error && /stream not found/iu.test(error.message)) return [];
      throw error;
    });
    const shown = letters.slice(0, limit);
    return { letters: shown.map(letterRow), more: letters.length > limit, next: letters.length > limit ? (shown.at(-1)?.sequence ?? null) : null };
  });

  app.get<{ Params: { seq: string } }>('/api/dead-letters/:seq', async (request, reply) => {
    const seq = sequenceOf(request.params.seq);
    if (seq === null) return refuse(reply, 400, 'BadRequest', `A dead letter is named by its sequence number, not "${request.params.seq}"`);
    try {
      const letter = await deadLetterOrGone(await jetstreamManager(context.connection), names, seq);
      return { ...letterRow(letter), originStream: letter.originStream, originSequence: letter.originSequence, headers: letter.headers, payload: payloadView(letter.data) };
    } catch (error) {
      return gone(reply, error);
    }
  });

  const reasonOf = (body: { reason?: unknown } | null): string => (typeof body?.reason === 'string' ? body.reason.trim() : '');

  app.post<{ Params: { seq: string; action: string }; Body: { reason?: unknown } | null }>(
    '/api/dead-letters/:seq/:action',
    { onRequest: csrfChecked(app), preHandler: changer(context.access) },
    async (request, reply) => {
      const seq = sequenceOf(request.params.seq);
      const { action } = request.params;
      if (seq === null) return refuse(reply, 400, 'BadRequest', `A dead letter is named by its sequence number, not "${request.params.seq}"`);
      if (action !== 'replay' && action !== 'discard') return refuse(reply, 404, 'NotFound', `No action "${action}": use replay or discard`);
      const reason = reasonOf(request.body);
      if (reason === '' || reason.length > 500) return refuse(reply, 400, 'BadRequest', 'Give a reason (1 to 500 characters): it is recorded with the change');
      const jsm = await jetstreamManager(context.connection);
      try {
        const letter = await deadLetterOrGone(jsm, names, seq);
        const result = action === 'replay' ? await replayDeadLetter(jetstream(context.connection), jsm, names, seq) : (await dropDeadLetter(jsm, names, seq), { sequence: seq, dropped: true });
        audit(context, { action: `dlq.${action}`, by: request.operator ?? 'console', reason, sequence: seq, instanceId: letter.instanceId, originSubject: letter.originSubject });
        return result;
      } catch (error) {
        return gone(reply, error);
      }
    },
  );
}
