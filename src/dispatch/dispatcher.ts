/**
 * Devices → provider → outcome. For each device of a request, concurrently:
 *
 *   route by app_id ──none/ambiguous──▶ rejected
 *        │
 *   remembered dead? ──yes──▶ rejected (spec: may list pushkeys that failed earlier)
 *        │
 *   claim (event_id, app_id, pushkey) ──already done──▶ same answer, no push
 *        │                             └─in flight elsewhere──▶ wait for that outcome
 *   inflight limit ──full──▶ overloaded (503)
 *        │
 *   provider.send, retried on TemporaryDeliveryError within the request budget
 *        │
 *   settle (delivered/rejected/dropped remembered) or release (failed: a retry may send)
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { pushkeyTag } from '../log/logger.ts';
import { type Device, defaultPayloadOf, type Notification } from '../matrix/notification.ts';
import type { Metrics } from '../metrics/metrics.ts';
import {
  type DeliveryOutcome,
  PermanentDeliveryError,
  type PushProvider,
  TemporaryDeliveryError,
} from '../providers/provider.ts';
import type { SettledOutcome, StateStore } from '../state/state-store.ts';
import { AppRouter } from './app-id-match.ts';
import type { DeviceResult, DispatchSummary } from './device-outcome.ts';
import { type RetryPolicy, retryDelay } from './retry.ts';

export interface DispatcherOptions {
  providers: ReadonlyMap<string, { provider: PushProvider; inflightLimit: number }>;
  store: StateStore;
  clock: Clock;
  metrics: Metrics;
  retry: RetryPolicy;
  /** The time budget of one notify request, retries included. */
  budgetMs: number;
  dedupWindowMs: number;
  rejectedWindowMs: number;
  random?: () => number;
}

/** One device of one request, on its way through the dispatcher. */
interface DeviceJob {
  readonly app: RoutedApp;
  readonly notification: Notification;
  readonly device: Device;
  /** Epoch milliseconds when the request's budget ends. */
  readonly deadline: number;
  /** Aborts when the budget ends. */
  readonly budget: AbortSignal;
  readonly logger: Logger;
}

interface RoutedApp {
  key: string;
  provider: PushProvider;
  inflightLimit: number;
  inflight: number;
}

function hashKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url');
}

export class Dispatcher {
  readonly #router: AppRouter<RoutedApp>;
  readonly #options: DispatcherOptions;
  readonly #random: () => number;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#router = new AppRouter(
      [...options.providers].map(([key, { provider, inflightLimit }]) => [
        key,
        { key, provider, inflightLimit, inflight: 0 },
      ]),
    );
  }

  async dispatch(notification: Notification, logger: Logger): Promise<DispatchSummary> {
    const deadline = this.#options.clock.now() + this.#options.budgetMs;
    const budget = AbortSignal.timeout(this.#options.budgetMs);
    const results = await Promise.all(
      notification.devices.map((device) =>
        this.#dispatchDevice(notification, device, deadline, budget, logger),
      ),
    );
    const rejected = notification.devices.filter((_, i) => results[i] === 'rejected').map((d) => d.pushkey);
    return { rejected: [...new Set(rejected)], results };
  }

  async #dispatchDevice(
    notification: Notification,
    device: Device,
    deadline: number,
    budget: AbortSignal,
    requestLogger: Logger,
  ): Promise<DeviceResult> {
    const logger = requestLogger.child({
      app_id: device.app_id,
      pushkey_tag: pushkeyTag(device.pushkey),
      event_id: notification.event_id,
    });
    const route = this.#router.route(device.app_id);
    if (route.kind !== 'found') {
      logger.info({ route: route.kind }, 'rejecting device: no app configured for its app_id');
      this.#count('-', '-', 'rejected');
      return 'rejected';
    }
    const job: DeviceJob = { app: route.value, notification, device, deadline, budget, logger };
    const { result, duplicate } = await this.#deliverOnce(job);
    this.#count(job.app.key, job.app.provider.kind, duplicate ? 'duplicate' : result);
    return result;
  }

  /** Duplicate suppression and dead-pushkey memory around the actual push. */
  async #deliverOnce(job: DeviceJob): Promise<{ result: DeviceResult; duplicate: boolean }> {
    const { store, clock } = this.#options;
    const { app, notification, device, budget, logger } = job;
    const deadKey = `dead:${hashKey(app.key, device.pushkey)}`;
    const rejectedAt = await store.rejectedAt(deadKey);
    if (rejectedAt !== null) {
      // A pusher re-registered after the provider declared the token dead deserves a new try.
      if (device.pushkey_ts * 1000 <= rejectedAt) {
        logger.info('rejecting device: its pushkey was declared dead earlier');
        return { result: 'rejected', duplicate: false };
      }
      await store.forgetRejected(deadKey);
    }

    if (!defaultPayloadOf(device).ok) {
      logger.info('rejecting device: data.default_payload is not an object');
      return { result: 'rejected', duplicate: false };
    }

    // Badge-only updates (no event_id) are idempotent and never deduplicated.
    if (notification.event_id === undefined) return { result: await this.#send(job), duplicate: false };

    const pushKey = `push:${hashKey(notification.event_id, app.key, device.pushkey)}`;
    while (true) {
      const claim = await store.claim(pushKey, Math.max(1, job.deadline - clock.now()));
      if (claim.kind === 'settled') {
        logger.info({ outcome: claim.outcome }, 'duplicate push suppressed');
        return { result: claim.outcome, duplicate: true };
      }
      if (claim.kind === 'pending') {
        const outcome = await Promise.race([claim.outcome, abortedAsNull(budget)]);
        if (outcome !== null) {
          logger.info({ outcome }, 'duplicate push suppressed: waited for the request that was sending it');
          return { result: outcome, duplicate: true };
        }
        if (budget.aborted) return { result: 'temporary', duplicate: false };
        continue; // the first sender gave up: try it ourselves
      }
      const result = await this.#send(job);
      if (isSettled(result)) {
        await store.settle(pushKey, result, this.#options.dedupWindowMs);
        if (result === 'rejected') {
          await store.rememberRejected(deadKey, clock.now(), this.#options.rejectedWindowMs);
        }
      } else {
        await store.release(pushKey);
      }
      return { result, duplicate: false };
    }
  }

  /** The inflight limit and the retry loop around provider.send. */
  async #send(job: DeviceJob): Promise<DeviceResult> {
    const { app, logger } = job;
    if (app.inflight >= app.inflightLimit) {
      logger.warn({ limit: app.inflightLimit }, 'inflight_request_limit reached; answering 503');
      return 'overloaded';
    }
    app.inflight++;
    this.#options.metrics.inflight.inc({ app: app.key });
    try {
      return await this.#sendWithRetries(job);
    } finally {
      app.inflight--;
      this.#options.metrics.inflight.dec({ app: app.key });
    }
  }

  async #sendWithRetries(job: DeviceJob): Promise<DeviceResult> {
    const { app, notification, device, deadline, budget, logger } = job;
    const { clock, retry, metrics } = this.#options;
    const pushId = randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        const ctx = { logger, signal: budget, deadline, attempt, pushId };
        const outcome = await raceBudget(app.provider.send(notification, device, ctx), budget);
        logOutcome(logger, outcome, attempt);
        return outcome.kind;
      } catch (error) {
        if (error instanceof PermanentDeliveryError) {
          logger.error({ err: error, attempt }, "push failed permanently: check this app's configuration");
          return 'permanent';
        }
        if (!(error instanceof TemporaryDeliveryError) && !budget.aborted) {
          logger.error({ err: error, attempt }, 'provider raised an unexpected error');
          return 'bug';
        }
        const retryAfterMs = error instanceof TemporaryDeliveryError ? error.retryAfterMs : undefined;
        const delay = budget.aborted
          ? null
          : retryDelay(retry, attempt, {
              retryAfterMs,
              remainingMs: deadline - clock.now(),
              random: this.#random(),
            });
        if (delay === null) {
          logger.warn({ err: error, attempt }, 'push failed temporarily; giving up for this request (502)');
          return 'temporary';
        }
        logger.info({ err: error, attempt, delay_ms: delay }, 'push failed temporarily; retrying');
        metrics.retries.inc({ app: app.key, provider: app.provider.kind });
        try {
          await clock.sleep(delay, budget);
        } catch {
          return 'temporary';
        }
      }
    }
  }

  #count(app: string, provider: string, outcome: string): void {
    this.#options.metrics.deliveries.inc({ app, provider, outcome });
  }
}

function isSettled(result: DeviceResult): result is SettledOutcome {
  return result === 'delivered' || result === 'rejected' || result === 'dropped';
}

function logOutcome(logger: Logger, outcome: DeliveryOutcome, attempt: number): void {
  if (outcome.kind === 'delivered') logger.info({ attempt }, 'push delivered');
  else logger.info({ attempt, reason: outcome.reason }, `push ${outcome.kind}`);
}

/** Resolves null once `signal` aborts (never rejects). */
function abortedAsNull(signal: AbortSignal): Promise<null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(null), { once: true }));
}

/** A provider that ignores the abort signal still cannot hold the request past its budget. */
function raceBudget<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new TemporaryDeliveryError('request time budget exhausted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TemporaryDeliveryError('request time budget exhausted'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
