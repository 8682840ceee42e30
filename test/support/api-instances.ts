/**
 * Several `cql-agent serve` processes as behind a load balancer, for end-to-end tests: started
 * and stopped together, and a client that keeps each session's token whichever instance made it.
 */
import { type ApiProcess, startApiProcess } from './api-process.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, checked field by field by the tests
type Json = any;

/** The admin key the instances are started with. */
export const INSTANCES_ADMIN_KEY = 'a-long-admin-key-for-the-e2e-tests';

export interface InstancesClient {
  /** POST /api/v1/chat/message, with the session's token once one was given. */
  post(
    instance: ApiProcess,
    message: string,
    sessionId: string,
  ): Promise<{ status: number; body: Json }>;
  /** A GET with the admin key (the health route ignores it). */
  get(instance: ApiProcess, path: string): Promise<{ status: number; body: Json }>;
}

/** A client that sends every session's token to whichever instance it calls: any instance
 * accepts a token another one gave. */
export function instancesClient(): InstancesClient {
  const tokens = new Map<string, string>();
  return {
    async post(instance, message, sessionId) {
      const token = tokens.get(sessionId);
      const response = await fetch(`${instance.base}/api/v1/chat/message`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token && { 'x-session-token': token }),
        },
        body: JSON.stringify({ message, session_id: sessionId }),
      });
      const given = response.headers.get('x-session-token');
      if (given) tokens.set(sessionId, given);
      return { status: response.status, body: (await response.json()) as Json };
    },
    async get(instance, path) {
      const response = await fetch(`${instance.base}${path}`, {
        headers: { authorization: `Bearer ${INSTANCES_ADMIN_KEY}` },
      });
      return { status: response.status, body: (await response.json()) as Json };
    },
  };
}

/**
 * The environment of instances sharing the Redis at `url`. A busy instance reads Redis's
 * replies late: that is no outage, so the command deadline is long enough not to fail over.
 */
export const instancesEnv = (url: string): Record<string, string> => ({
  USE_REDIS: 'true',
  REDIS_URL: url,
  REDIS_COMMAND_TIMEOUT_MS: '5000',
  ADMIN_API_KEY: INSTANCES_ADMIN_KEY,
});

export const startThree = (env: Record<string, string>): Promise<ApiProcess[]> =>
  Promise.all([startApiProcess(env), startApiProcess(env), startApiProcess(env)]);

export const stopAll = (instances: readonly ApiProcess[]): Promise<unknown> =>
  Promise.all(instances.map((instance) => instance.stop('SIGKILL')));
