/**
 * POST /_matrix/push/v1/notify, a thin adapter: raw body → parseNotifyBody → Dispatcher → status.
 *
 *   all devices handled (delivered / rejected / dropped)  → 200 {"rejected": [...]}
 *   an app's inflight_request_limit reached               → 503 + Retry-After
 *   a provider failed (temporarily, or permanently)        → 502: the homeserver retries; devices
 *                                                            already delivered are deduplicated then
 *   a provider bug                                         → 500
 *
 * GET on the same path answers UnifiedPush's gateway discovery.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DeviceResult } from '../../dispatch/device-outcome.ts';
import type { Dispatcher } from '../../dispatch/dispatcher.ts';
import { GatewayError } from '../../errors.ts';
import { decodeJsonBody, parseNotifyBody } from '../../matrix/notification.ts';
import type { Metrics } from '../../metrics/metrics.ts';
import { sendGatewayError } from '../error-handler.ts';

export const NOTIFY_PATH = '/_matrix/push/v1/notify';

function failureFor(results: readonly DeviceResult[]): GatewayError | null {
  if (results.includes('overloaded')) {
    return new GatewayError('M_OVERLOADED', 'The gateway is busy; retry later.', { 'retry-after': '1' });
  }
  if (results.includes('temporary') || results.includes('permanent')) {
    return new GatewayError('M_UNKNOWN', 'A push service failed for at least one device; retry later.');
  }
  if (results.includes('bug')) return new GatewayError('M_INTERNAL', 'Internal error; see the gateway log.');
  return null;
}

export function registerNotifyRoute(app: FastifyInstance, dispatcher: Dispatcher, metrics: Metrics): void {
  app.post(NOTIFY_PATH, async (request, reply) => {
    const stopTimer = metrics.notifyDuration.startTimer();
    try {
      const raw = request.body;
      if (!Buffer.isBuffer(raw))
        throw new GatewayError('M_NOT_JSON', 'The body is empty; expected a JSON object.');
      const notification = parseNotifyBody(decodeJsonBody(raw));
      // Debug only: every device's outcome line already carries the event_id (info logging of three
      // lines per request cost about 30% of throughput in bench/notify.ts).
      request.log.debug(
        { event_id: notification.event_id, devices: notification.devices.length, prio: notification.prio },
        'notify',
      );
      // Fastify's request logger is the pino child carrying this request's request_id.
      const summary = await dispatcher.dispatch(notification, request.log as unknown as Logger);
      const failure = failureFor(summary.results);
      if (failure) return sendGatewayError(reply, failure);
      return reply.code(200).type('application/json').send({ rejected: summary.rejected });
    } finally {
      stopTimer();
    }
  });

  app.get(NOTIFY_PATH, async (_request, reply) =>
    reply.type('application/json').send({ unifiedpush: { gateway: 'matrix' } }),
  );
}
