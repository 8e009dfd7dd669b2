import * as E from 'fp-ts/lib/Either.js';
import { decodeStream } from '@sagaflow/core';
import { cursorOf, instanceHistory, instanceJson, listQueryOf } from '@sagaflow/inspect';
import { NoEngineError, requestIntervention } from '@sagaflow/nats';
import type { FastifyInstance } from 'fastify';
import { changer, csrfChecked } from '../access.js';
import { refuse, validId, type ConsoleContext } from '../context.js';
import { instanceDiagram } from '../saga-diagram.js';

/** A page of the console's list: smaller than the command's, larger pages through the API's `limit`. */
const consoleLimits = { default: 50, max: 500 };

type ListQueryString = Partial<Record<'saga' | 'since' | 'changedFrom' | 'changedTo' | 'startedFrom' | 'startedTo' | 'prefix' | 'limit' | 'after', string>> & {
  status?: string | string[];
};

const actions = ['retry', 'abort', 'resume', 'skip'] as const;
type Action = (typeof actions)[number];

/** The Instances and Instance pages' data, and the repairs: the same listing, history and interventions as `sagaflow list`, `show` and `retry`…. */
export function instanceRoutes(app: FastifyInstance, context: ConsoleContext): void {
  app.get<{ Querystring: ListQueryString }>('/api/instances', async (request, reply) => {
    const q = request.query;
    const statuses = q.status === undefined ? [] : Array.isArray(q.status) ? q.status : [q.status];
    const asked = listQueryOf(
      {
        saga: q.saga,
        statuses,
        since: q.since,
        changedFrom: q.changedFrom,
        changedTo: q.changedTo,
        startedFrom: q.startedFrom,
        startedTo: q.startedTo,
        prefix: q.prefix,
        limit: q.limit,
        after: q.after,
      },
      Date.now(),
      consoleLimits,
    );
    if (!asked.ok) return refuse(reply, 400, 'BadRequest', asked.error.problem.replace(/^--/u, ''), { option: asked.error.option });
    const rows = await context.store.listInstances(asked.query.filter);
    const shown = rows.slice(0, asked.query.limit);
    const last = shown.at(-1);
    const more = rows.length > asked.query.limit;
    return { instances: shown.map(instanceJson), more, next: more && last !== undefined ? cursorOf(last) : null };
  });

  app.get<{ Params: { id: string } }>('/api/instances/:id', async (request, reply) => {
    const { id } = request.params;
    if (!validId(id)) return refuse(reply, 400, 'BadRequest', 'An instance id has 1 to 300 characters');
    const [recorded, summary] = await Promise.all([context.store.readStream(id), context.store.getInstance(id)]);
    if (recorded.length === 0 || summary === undefined) return refuse(reply, 404, 'InstanceNotFound', `No saga instance "${id}"`);
    const events = decodeStream(recorded);
    if (E.isLeft(events)) return refuse(reply, 422, events.left._tag, events.left.message, { instance: instanceJson(summary) });
    const history = instanceHistory(recorded, events.right);
    const definition = context.registry?.get(history.saga, history.version);
    return {
      instance: instanceJson(summary),
      history,
      diagram: instanceDiagram(definition, history.attempts),
      definitionKnown: definition !== undefined,
      traceUrl: history.trace === null || context.traceUrl === undefined ? null : context.traceUrl.replaceAll('{traceId}', encodeURIComponent(history.trace.traceId)),
    };
  });

  app.post<{ Params: { id: string; action: string }; Body: { reason?: unknown; step?: unknown } | null }>(
    '/api/instances/:id/:action',
    { onRequest: csrfChecked(app), preHandler: changer(context.access) },
    async (request, reply) => {
      const { id, action } = request.params;
      if (!validId(id)) return refuse(reply, 400, 'BadRequest', 'An instance id has 1 to 300 characters');
      if (!(actions as readonly string[]).includes(action)) return refuse(reply, 404, 'NotFound', `No action "${action}": use ${actions.join(', ')}`);
      const reason = typeof request.body?.reason === 'string' ? request.body.reason.trim() : '';
      if (reason === '' || reason.length > 500) return refuse(reply, 400, 'BadRequest', 'Give a reason (1 to 500 characters): it is recorded with the repair');
      const step = typeof request.body?.step === 'string' && request.body.step !== '' ? request.body.step : undefined;
      if (action === 'skip' && step === undefined) return refuse(reply, 400, 'BadRequest', 'skip needs the step whose compensation was done by hand');
      try {
        const answer = await requestIntervention(context.connection, context.names, {
          instanceId: id,
          action: action as Action,
          by: request.operator ?? 'console',
          reason,
          ...(step === undefined ? {} : { step }),
        });
        if (!answer.ok) return refuse(reply, answer.error.tag === 'InstanceNotFound' ? 404 : 409, answer.error.tag, answer.error.message);
        return { instance: instanceJson(answer.summary) };
      } catch (error) {
        if (error instanceof NoEngineError) return refuse(reply, 503, 'NoEngine', `No engine answered in namespace "${context.names.namespace}": start one with "sagaflow run"`);
        throw error;
      }
    },
  );
}
