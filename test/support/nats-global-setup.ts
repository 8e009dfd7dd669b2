import type { TestProject } from 'vitest/node';
import { startNatsServer } from './nats-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the NATS server (with JetStream) the tests share; each test uses its own namespace. */
    natsUrl: string;
  }
}

/**
 * Starts one `nats-server -js` for the test run on a free port with a temporary store directory,
 * unless `NATS_URL` points at an existing server. Tests that restart NATS start their own.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const existing = process.env.NATS_URL;
  if (existing !== undefined && existing !== '') {
    project.provide('natsUrl', existing);
    return () => Promise.resolve();
  }
  const server = await startNatsServer();
  project.provide('natsUrl', server.url);
  return async () => {
    await server.stop();
    server.remove();
  };
}
