/**
 * Every error becomes a Matrix error response (JSON with an `errcode`), never an HTML page or a
 * plain-text 400 as Sygnal sends. Errors Fastify raises itself (body too large, bad content) are
 * mapped to their Matrix meaning; anything unexpected is a bug: 500, logged with its stack.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrCode, GatewayError } from '../errors.ts';

export function sendGatewayError(reply: FastifyReply, error: GatewayError): FastifyReply {
  return reply.code(error.status).headers(error.headers).type('application/json').send(error.toBody());
}

function fromFastify(error: FastifyError): GatewayError | null {
  const byCode: Partial<Record<string, ErrCode>> = {
    FST_ERR_CTP_BODY_TOO_LARGE: 'M_TOO_LARGE',
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'M_NOT_JSON',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'M_NOT_JSON',
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'M_NOT_JSON',
  };
  const code = byCode[error.code];
  if (code)
    return new GatewayError(code, code === 'M_TOO_LARGE' ? 'The request body is too large.' : error.message);
  return null;
}

export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof GatewayError) return sendGatewayError(reply, error);
  const mapped = fromFastify(error as FastifyError);
  if (mapped) return sendGatewayError(reply, mapped);
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    // A client error Fastify detected before our code ran (aborted upload, bad headers).
    request.log.info({ err: error }, 'bad request');
    return reply.code(status).type('application/json').send({ errcode: 'M_UNKNOWN', error: error.message });
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendGatewayError(reply, new GatewayError('M_INTERNAL', 'Internal error; see the gateway log.'));
}
