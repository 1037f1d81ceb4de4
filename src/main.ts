/**
 * The gateway process: read config → buildApp → listen → on SIGTERM/SIGINT stop accepting, let
 * in-flight requests finish (bounded by dispatch.shutdown_grace_ms), exit 0. Nothing else.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { validateConfig } from './config/load.ts';
import { resolveConfigSource } from './config/source.ts';
import { ConfigError } from './errors.ts';
import { createLogger } from './log/logger.ts';
import { startMetricsServer } from './metrics/server.ts';
import { providerTable } from './providers/registry.ts';

async function main(): Promise<void> {
  let loaded: ReturnType<typeof validateConfig>;
  let origin: string;
  try {
    const source = await resolveConfigSource(process.argv.slice(2), process.env);
    origin = source.origin;
    loaded = validateConfig(source.raw, providerTable());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`herald: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const { config, warnings } = loaded;
  const logger = createLogger({ level: config.log.level });
  // A bug that escapes every handler: say so in the same JSON log, then let the supervisor restart us.
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    process.on(event, (error: unknown) => {
      logger.fatal({ err: error, event }, 'unexpected error; exiting');
      process.exit(70);
    });
  }
  for (const warning of warnings) logger.warn(warning);

  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    app = await buildApp(config, { logger });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`herald: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  const [first, ...others] = config.http.bind_addresses;
  let port: number;
  let extraServers: Server[];
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | null;
  try {
    await app.http.listen({ host: first!, port: config.http.port });
    // Fastify listens on one address; further bind_addresses get their own listener on the same app.
    port = (app.http.server.address() as AddressInfo).port;
    extraServers = await Promise.all(others.map((host) => listenAlso(app.http, host, port)));
    metricsServer = config.metrics.prometheus.enabled
      ? await startMetricsServer(app.metrics.registry, config.metrics.prometheus)
      : null;
  } catch (error) {
    // EADDRINUSE, EADDRNOTAVAIL, EACCES: an operator's problem, said in one line.
    const { code, message } = error as NodeJS.ErrnoException;
    process.stderr.write(
      `herald: cannot listen (${code ?? message}); check http.bind_addresses, http.port and metrics.prometheus\n`,
    );
    await app.close();
    process.exit(2);
  }
  const metricsPort = metricsServer ? (metricsServer.server.address() as AddressInfo).port : undefined;
  logger.info(
    { config: origin, addresses: config.http.bind_addresses, port, metrics_port: metricsPort },
    'herald is listening',
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new requests, finishing those in flight');
    app.beginDrain();
    const forced = setTimeout(() => {
      logger.warn('shutdown grace period over; closing remaining connections');
      app.http.server.closeAllConnections();
      for (const extra of extraServers) extra.closeAllConnections();
    }, config.dispatch.shutdown_grace_ms);
    forced.unref();
    const extrasDrained = extraServers.map(
      (extra) => new Promise<void>((resolve) => extra.close(() => resolve())),
    );
    try {
      await app.close(extrasDrained);
      await metricsServer?.close();
    } catch (error) {
      logger.error({ err: error }, 'error while shutting down');
    }
    clearTimeout(forced);
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** Fastify listens on one address; further bind_addresses get their own listener for the same app. */
function listenAlso(http: FastifyInstance, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((req, res) => http.routing(req, res));
    server.once('error', reject);
    server.listen({ host, port }, () => resolve(server));
  });
}

await main();
