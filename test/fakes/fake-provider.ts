/**
 * A synthetic provider whose behaviour is keyed by the pushkey (Sygnal's TestPushkin idea), for
 * testing the dispatch contract without any push service:
 *   accept…           delivered
 *   reject…           rejected
 *   temporary…        TemporaryDeliveryError every time
 *   flaky-N…          TemporaryDeliveryError for the first N tries of a push, then delivered
 *   retryafter-MS…    TemporaryDeliveryError with retryAfterMs = MS
 *   permanent…        PermanentDeliveryError
 *   throw…            a plain Error (a provider bug)
 *   slow-MS…          delivered after MS milliseconds
 *   hang…             never answers (ignores the abort signal)
 * Every call is recorded, so tests can count pushes.
 */
import type { Device, Notification } from '../../src/matrix/notification.ts';
import {
  type CommonAppConfig,
  type DeliveryOutcome,
  type DispatchContext,
  PermanentDeliveryError,
  type ProviderModule,
  type PushProvider,
  TemporaryDeliveryError,
} from '../../src/providers/provider.ts';

export interface RecordedCall {
  appId: string;
  pushkey: string;
  eventId: string | undefined;
  attempt: number;
  pushId: string;
  at: number;
  notification: Notification;
  device: Device;
}

/** How many sends were running at once, at most: proves devices are dispatched concurrently. */
export interface ConcurrencyGauge {
  current: number;
  max: number;
}

export function createFakeProviderModule(calls: RecordedCall[] = []) {
  const concurrency: ConcurrencyGauge = { current: 0, max: 0 };
  const module: ProviderModule<CommonAppConfig> = {
    type: 'fake',
    configProperties: { note: { type: 'string', description: 'Free text, to test unknown-key handling.' } },
    async create(appId): Promise<PushProvider> {
      return {
        appId,
        kind: 'fake',
        async send(
          notification: Notification,
          device: Device,
          ctx: DispatchContext,
        ): Promise<DeliveryOutcome> {
          const key = device.pushkey;
          calls.push({
            appId,
            pushkey: key,
            eventId: notification.event_id,
            attempt: ctx.attempt,
            pushId: ctx.pushId,
            at: Date.now(),
            notification,
            device,
          });
          if (key.startsWith('accept')) return { kind: 'delivered' };
          if (key.startsWith('reject')) return { kind: 'rejected', reason: 'fake says dead' };
          if (key.startsWith('temporary')) throw new TemporaryDeliveryError('fake temporary failure');
          const flaky = /^flaky-(\d+)/.exec(key);
          if (flaky) {
            if (ctx.attempt <= Number(flaky[1])) throw new TemporaryDeliveryError('fake flaky failure');
            return { kind: 'delivered' };
          }
          const retryAfter = /^retryafter-(\d+)/.exec(key);
          if (retryAfter)
            throw new TemporaryDeliveryError('fake busy', { retryAfterMs: Number(retryAfter[1]) });
          if (key.startsWith('permanent')) throw new PermanentDeliveryError('fake permanent failure');
          if (key.startsWith('throw')) throw new Error('fake provider bug');
          const slow = /^slow-(\d+)/.exec(key);
          if (slow) {
            concurrency.current++;
            concurrency.max = Math.max(concurrency.max, concurrency.current);
            await new Promise((resolve) => setTimeout(resolve, Number(slow[1])));
            concurrency.current--;
            return { kind: 'delivered' };
          }
          if (key.startsWith('hang')) return new Promise(() => {});
          throw new Error(`fake provider: no behaviour for pushkey ${key}`);
        },
        async close() {},
      };
    },
  };
  return { module: module as ProviderModule<never>, calls, concurrency };
}
