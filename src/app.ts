/**
 * buildApp(config, deps): everything the gateway is, without listening. main.ts listens; tests
 * call this with port 0 and their own fakes.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type Clock, systemClock } from './clock.ts';
import type { HeraldConfig } from './config/schema.ts';
import { Dispatcher } from './dispatch/dispatcher.ts';
import { registerHealthRoute } from './http/routes/health.ts';
import { NOTIFY_PATH, registerNotifyRoute } from './http/routes/notify.ts';
import { createHttpServer, registerMethodNotAllowed } from './http/server.ts';
import { createLogger } from './log/logger.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import type { ProviderModule, PushProvider } from './providers/provider.ts';
import { providerTable } from './providers/registry.ts';
import { MemoryStateStore } from './state/memory-store.ts';
import type { StateStore } from './state/state-store.ts';

export interface AppDeps {
  logger?: Logger;
  clock?: Clock;
  metrics?: Metrics;
  store?: StateStore;
  /** Provider modules besides the built-in ones (tests add their synthetic provider here). */
  extraProviders?: readonly ProviderModule<never>[];
  random?: () => number;
}

export interface HeraldApp {
  readonly http: FastifyInstance;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Marks the gateway as draining (health answers 503) without closing anything yet. */
  beginDrain(): void;
  /**
   * Stops the HTTP server (in-flight requests finish) and waits for `alsoDraining` (other listeners
   * of the same app), then closes providers and the store.
   */
  close(alsoDraining?: readonly Promise<unknown>[]): Promise<void>;
}

export async function buildApp(config: HeraldConfig, deps: AppDeps = {}): Promise<HeraldApp> {
  const logger = deps.logger ?? createLogger({ level: config.log.level });
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createMetrics();
  const store = deps.store ?? new MemoryStateStore({ maxEntries: config.dedup.max_entries, clock });
  const modules = providerTable(deps.extraProviders);

  const providers = new Map<string, { provider: PushProvider; inflightLimit: number }>();
  try {
    for (const [appId, section] of Object.entries(config.apps)) {
      const module = modules.get(section.type);
      if (!module) throw new Error(`no provider module for type ${section.type}`);
      const provider = await module.create(appId, section, {
        logger: logger.child({ app: appId, provider: section.type }),
        metrics,
        clock,
        proxy: config.proxy,
      });
      providers.set(appId, { provider, inflightLimit: section.inflight_request_limit });
    }
  } catch (error) {
    await Promise.allSettled([...providers.values()].map(({ provider }) => provider.close()));
    throw error;
  }

  const dispatcher = new Dispatcher({
    providers,
    store,
    clock,
    metrics,
    retry: {
      maxAttempts: config.dispatch.retry.max_attempts,
      initialDelayMs: config.dispatch.retry.initial_delay_ms,
      maxDelayMs: config.dispatch.retry.max_delay_ms,
      factor: config.dispatch.retry.factor,
    },
    budgetMs: config.dispatch.request_budget_ms,
    dedupWindowMs: config.dedup.enabled ? config.dedup.window_seconds * 1000 : 0,
    rejectedWindowMs: config.dedup.rejected_window_seconds * 1000,
    ...(deps.random ? { random: deps.random } : {}),
  });

  let draining = false;
  const http = createHttpServer({
    logger,
    maxBodyBytes: config.http.max_body_bytes,
    trustProxy: config.log.access.x_forwarded_for,
  });
  registerNotifyRoute(http, dispatcher, metrics);
  registerMethodNotAllowed(http, NOTIFY_PATH, ['GET', 'POST']);
  registerHealthRoute(http, () => draining);
  registerMethodNotAllowed(http, '/health', ['GET']);
  http.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url === NOTIFY_PATH && request.method === 'POST') {
      metrics.notifyRequests.inc({ status: String(reply.statusCode) });
    }
  });
  // While draining, answer in-flight keep-alive requests with `Connection: close`, so their
  // connections end with the response instead of holding shutdown until the grace period.
  http.addHook('onSend', async (_request, reply, payload) => {
    if (draining) reply.header('connection', 'close');
    return payload;
  });
  await http.ready();

  return {
    http,
    metrics,
    logger,
    beginDrain() {
      draining = true;
    },
    async close(alsoDraining = []) {
      draining = true;
      await Promise.all([http.close(), ...alsoDraining]);
      await Promise.allSettled([...providers.values()].map(({ provider }) => provider.close()));
      await store.close();
    },
  };
}
