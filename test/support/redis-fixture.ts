/** Gives the enclosing describe() a private redis-server and a raw client to inspect it,
 * started before its tests and stopped after them. */
import { after, before } from 'node:test';
import { createClient, type RedisClientType } from '@redis/client';
import { type RedisServer, type StartOptions, startRedisServer } from './redis-server.js';

export interface RedisFixture {
  readonly server: RedisServer;
  /** A plain client on database 0, for checking what the code under test wrote. */
  readonly raw: RedisClientType;
}

export function useRedisServer(options: StartOptions = {}): RedisFixture {
  let server: RedisServer | undefined;
  let raw: RedisClientType | undefined;
  before(async () => {
    server = await startRedisServer(options);
    raw = createClient({ url: server.url() });
    await raw.connect();
  });
  after(async () => {
    await raw?.close();
    await server?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the Redis fixture is used outside its tests');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get raw() {
      return started(raw);
    },
  };
}
