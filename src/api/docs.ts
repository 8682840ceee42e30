/** OpenAPI document generated from the route schemas, at /openapi.json (and at
 * /api/v1/openapi.json, where the original API served it), and Swagger UI at /docs. */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

export async function registerDocs(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'CQL Agent API',
        description: 'Home-repair assistant with sessions on Redis or memory',
        version,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  for (const path of ['/openapi.json', '/api/v1/openapi.json']) {
    app.get(path, { schema: { hide: true } }, async () => app.swagger());
  }
}
