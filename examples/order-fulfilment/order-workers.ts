import type { InProcessHandler } from '@sagaflow/engine';
import { openOrderServices, serviceOperations } from './order-services.js';

/** The order services as in-process handlers (one SQLite file), for the demo and single-process tests. */
export interface OrderWorkers {
  readonly handlers: Readonly<Record<string, InProcessHandler>>;
  close(): void;
}

/** Opens the services at `path`; each handler waits up to `maxLatencyMs` to spread the work like a network would. */
export function openOrderWorkers(path: string, options: { readonly maxLatencyMs?: number } = {}): OrderWorkers {
  const services = openOrderServices(path);
  const maxLatencyMs = options.maxLatencyMs ?? 10;
  const handler: InProcessHandler = async (effect) => {
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * maxLatencyMs)));
    return services.run(effect);
  };
  return {
    handlers: Object.fromEntries(serviceOperations.all.map((operation) => [operation, handler])),
    close: () => services.close(),
  };
}
