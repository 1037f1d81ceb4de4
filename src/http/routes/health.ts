/** GET /health: 200 while serving, 503 once shutdown has begun (so a load balancer drains us). */
import type { FastifyInstance } from 'fastify';

export function registerHealthRoute(app: FastifyInstance, isDraining: () => boolean): void {
  app.get('/health', async (_request, reply) => {
    if (isDraining()) return reply.code(503).type('application/json').send({ status: 'draining' });
    return reply.type('application/json').send({ status: 'ok' });
  });
}
