/**
 * The Fastify instance: body handling, request ids, Matrix-style 404/405, error mapping. Routes
 * are registered by app.ts; nothing here knows about push providers.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import { handleError, sendGatewayError } from './error-handler.ts';

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

export function createHttpServer(options: {
  logger: Logger;
  maxBodyBytes: number;
  trustProxy: boolean;
}): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.maxBodyBytes,
    genReqId: () => randomUUID(),
    // One request_id per request, generated here (a client-supplied id is not trusted).
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    requestIdHeader: false,
    trustProxy: options.trustProxy,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  // Homeservers send `application/json` (Synapse adds `; charset=utf-8`), but Sygnal never looked at
  // the content type, so neither do we: every body is read raw and checked as strict UTF-8 JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendGatewayError(
      reply,
      new GatewayError('M_UNRECOGNIZED', `Unrecognized request: ${request.method} ${request.url}`),
    ),
  );
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        // The client's address; behind a reverse proxy, X-Forwarded-For's when log.access.x_forwarded_for.
        remote: request.ip,
      },
      'request done',
    );
  });
  return app;
}

/** Answers 405 M_UNRECOGNIZED for the methods a known path does not serve (spec v1.6). */
export function registerMethodNotAllowed(
  app: FastifyInstance,
  path: string,
  served: readonly string[],
): void {
  const others = ALL_METHODS.filter((m) => !served.includes(m) && !(m === 'HEAD' && served.includes('GET')));
  app.route({
    method: others,
    url: path,
    handler: async (request, reply) =>
      sendGatewayError(
        reply.header('allow', served.join(', ')),
        new GatewayError('M_METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}`),
      ),
  });
}
