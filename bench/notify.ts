/**
 * Notify throughput and latency of the whole gateway (HTTP parse → validate → dedup → dispatch →
 * answer) with an instant provider, against a baseline measured in the same run: a bare Fastify
 * server that only parses the same JSON and answers {"rejected": []}. The ratio is Herald's own
 * overhead, independent of the machine. Also prints memory after the run.
 *
 * Run: node_modules/.bin/node --expose-gc bench/notify.ts [seconds per phase, default 5] [connections, default 32]
 *      [log level, default silent]
 */
import Fastify from 'fastify';
import pino from 'pino';
import { Pool } from 'undici';
import { buildApp } from '../src/app.ts';
import { parseConfigText, validateConfig } from '../src/config/load.ts';
import { createLogger } from '../src/log/logger.ts';
import { providerTable } from '../src/providers/registry.ts';
import { createFakeProviderModule } from '../test/fakes/fake-provider.ts';
import { device, exampleNotification } from '../test/helpers/fixtures.ts';

const seconds = Number(process.argv[2] ?? 5);
const connections = Number(process.argv[3] ?? 32);
/** `info` measures the cost of production logging (written to /dev/null); `silent` leaves it out. */
const logLevel = process.argv[4] ?? 'silent';

interface Result {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/** Keeps `connections` requests in flight for `seconds`; every request carries a new event_id. */
async function load(origin: string, body: (i: number) => string): Promise<Result> {
  const pool = new Pool(origin, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let next = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const started = performance.now();
      const response = await pool.request({
        path: '/_matrix/push/v1/notify',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body(next++),
      });
      await response.body.text();
      if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
      latencies.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!;
  return { requests: latencies.length, perSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) };
}

function show(name: string, r: Result): void {
  console.log(
    `${name.padEnd(34)} ${r.perSecond.toFixed(0).padStart(7)} req/s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms   (${r.requests} requests)`,
  );
}

const bodyFor = (i: number) =>
  JSON.stringify(
    exampleNotification([device('com.example.fake', 'accept-bench')], { event_id: `$bench-${i}` }),
  );

// Baseline: the least any JSON-over-HTTP gateway must do on this machine.
const baseline = Fastify();
baseline.post('/_matrix/push/v1/notify', async () => ({ rejected: [] }));
await baseline.listen({ host: '127.0.0.1', port: 0 });
const baselineAddress = baseline.server.address() as { port: number };

const fake = createFakeProviderModule([]);
const { config } = validateConfig(
  parseConfigText('apps: { com.example.fake: { type: fake, inflight_request_limit: 100000 } }', 'bench'),
  providerTable([fake.module]),
);
const logger = createLogger({ level: logLevel }, pino.destination('/dev/null'));
const herald = await buildApp(config, { logger, extraProviders: [fake.module] });
await herald.http.listen({ host: '127.0.0.1', port: 0 });
const heraldAddress = herald.http.server.address() as { port: number };

// The fake provider records calls; the benchmark must not measure an ever-growing array.
setInterval(() => {
  fake.calls.length = 0;
}, 100).unref();

console.log(
  `Node ${process.version}, ${connections} connections, ${seconds} s per phase, log level ${logLevel}`,
);
await load(`http://127.0.0.1:${heraldAddress.port}`, bodyFor); // warm-up
const base = await load(`http://127.0.0.1:${baselineAddress.port}`, bodyFor);
const ours = await load(`http://127.0.0.1:${heraldAddress.port}`, (i) => bodyFor(i + 1e9));
show('baseline (bare Fastify, JSON echo)', base);
show('herald notify (instant provider)', ours);
console.log(`ratio herald/baseline throughput: ${(ours.perSecond / base.perSecond).toFixed(2)}`);
// Measured after a full collection when run with --expose-gc, so what remains is what is kept.
(globalThis as { gc?: () => void }).gc?.();
const memory = process.memoryUsage();
console.log(
  `memory after ${ours.requests} distinct events (dedup records kept): rss ${(memory.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(memory.heapUsed / 2 ** 20).toFixed(0)} MiB`,
);
await herald.close();
await baseline.close();
