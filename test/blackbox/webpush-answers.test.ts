/**
 * The push service's answers (REFERENCE §6 table) and malformed subscriptions, as the homeserver
 * sees them: 2xx delivered; 404/410 rejected; 429/5xx/network/timeout retried then 502, with
 * Retry-After honoured; 413 and other 4xx 502 at once with a loud log; bad subscription data
 * rejected, never a 500.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Clock } from '../../src/clock.ts';
import {
  browserPusherDevice,
  type FakePushService,
  type ScriptedAnswer,
  startFakePushService,
  writeVapidKeyFile,
} from '../fakes/fake-push-service.ts';
import { exampleNotification } from '../helpers/fixtures.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

const APP = 'io.element.web';
let n = 0;
const eventId = () => `$webpush-answer-${++n}`;

/** Real time, but sleeps are recorded and skipped: the retry delays become observable. */
const sleeps: number[] = [];
const recordingClock: Clock = { now: () => Date.now(), sleep: async (ms) => void sleeps.push(ms) };

let fake: FakePushService;
let gw: TestGateway;
before(async () => {
  fake = await startFakePushService();
  gw = await startGateway(
    {
      apps: {
        [APP]: {
          type: 'webpush',
          vapid_private_key: writeVapidKeyFile().path,
          vapid_contact_email: 'ops@example.org',
          allowed_endpoints: ['localhost:*', '127.0.0.1:*'],
          response_timeout_ms: 300,
          connect_timeout_ms: 500,
        },
      },
      dispatch: {
        request_budget_ms: 5000,
        retry: { max_attempts: 3, initial_delay_ms: 10, max_delay_ms: 20 },
      },
    },
    { clock: recordingClock },
  );
});
after(async () => {
  await gw.close();
  await fake.close();
});

async function answered(...answers: ScriptedAnswer[]) {
  const subscription = fake.subscribe();
  fake.script(subscription, ...answers);
  const device = browserPusherDevice(APP, subscription);
  const before = fake.received.length;
  sleeps.length = 0;
  const logsBefore = gw.logs.length;
  const res = await gw.notify(exampleNotification([device], { event_id: eventId() }));
  return {
    res,
    pushkey: device.pushkey,
    attempts: fake.received.length - before,
    logs: gw.logs.slice(logsBefore),
    sleeps: [...sleeps],
  };
}

describe('Web Push answer table', () => {
  for (const status of [200, 201, 202]) {
    it(`${status} → delivered`, async () => {
      const { res, attempts } = await answered({ status });
      assert.deepEqual([res.status, res.json, attempts], [200, { rejected: [] }, 1]);
    });
  }

  for (const status of [404, 410]) {
    it(`${status} → the pushkey is rejected, not retried`, async () => {
      const { res, pushkey, attempts } = await answered({ status });
      assert.deepEqual([res.status, res.json, attempts], [200, { rejected: [pushkey] }, 1]);
    });
  }

  it('429 with Retry-After → retried after the time the push service asked for', async () => {
    const { res, attempts, sleeps } = await answered(
      { status: 429, headers: { 'retry-after': '2' } },
      { status: 201 },
    );
    assert.deepEqual([res.status, res.json, attempts], [200, { rejected: [] }, 2]);
    assert.deepEqual(sleeps, [2000]);
  });

  it('429 every time → 502 after the retries', async () => {
    const { res, attempts } = await answered({ status: 429 }, { status: 429 }, { status: 429 });
    assert.deepEqual([res.status, res.json.errcode, attempts], [502, 'M_UNKNOWN', 3]);
  });

  it('500 then 201 → retried and delivered', async () => {
    const { res, attempts } = await answered({ status: 500 }, { status: 201 });
    assert.deepEqual([res.status, attempts], [200, 2]);
  });

  it('503 every time → 502 after the retries', async () => {
    const { res, attempts } = await answered({ status: 503 }, { status: 503 }, { status: 503 });
    assert.deepEqual([res.status, attempts], [502, 3]);
  });

  it('a push service that does not answer → timeout, retried, then 502', async () => {
    const { res, attempts } = await answered('hang', 'hang', 'hang');
    assert.deepEqual([res.status, attempts], [502, 3]);
  });

  it('413 → 502 at once, not retried, logged as an error', async () => {
    const { res, attempts, logs } = await answered({ status: 413, body: '{"errno":104}' });
    assert.deepEqual([res.status, attempts], [502, 1]);
    const line = logs.find((l) => l.level === 50);
    assert.ok(line, 'an error-level log line');
    assert.match(JSON.stringify(line), /too large \(413\)/);
  });

  for (const status of [400, 401, 403]) {
    it(`${status} → 502 at once, not retried, with the service's reason in the log`, async () => {
      const { res, attempts, logs } = await answered({ status, body: '{"reason":"BadJwtToken"}' });
      assert.deepEqual([res.status, attempts], [502, 1]);
      assert.match(JSON.stringify(logs.filter((l) => l.level === 50)), /BadJwtToken/);
    });
  }

  it('a refused connection → retried, then 502', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const subscription = { ...fake.subscribe(), endpoint: `https://127.0.0.1:${port}/push/x` };
    const networkErrors = () => networkCount(gw);
    const before = await networkErrors();
    const res = await gw.notify(
      exampleNotification([browserPusherDevice(APP, subscription)], { event_id: eventId() }),
    );
    assert.equal(res.status, 502);
    assert.equal((await networkErrors()) - before, 3, 'three tries, each a network error');
  });
});

async function networkCount(gateway: TestGateway): Promise<number> {
  const metric = await gateway.app.metrics.registry.getSingleMetric('herald_provider_responses_total')!.get();
  return metric.values.filter((v) => v.labels.status === 'network').reduce((sum, v) => sum + v.value, 0);
}

describe('malformed subscriptions are rejected, never a 500', () => {
  const cases: [string, (device: ReturnType<typeof browserPusherDevice>) => unknown][] = [
    ['no data.endpoint', (d) => ({ ...d, data: { auth: d.data.auth } })],
    ['no data.auth', (d) => ({ ...d, data: { endpoint: d.data.endpoint } })],
    ['no data at all', (d) => ({ ...d, data: null })],
    ['data.auth not base64', (d) => ({ ...d, data: { ...d.data, auth: '%%%' } })],
    ['data.auth of the wrong length', (d) => ({ ...d, data: { ...d.data, auth: 'AAAA' } })],
    ['a pushkey that is not base64', (d) => ({ ...d, pushkey: 'not a key!' })],
    ['a pushkey of the wrong length', (d) => ({ ...d, pushkey: d.pushkey.slice(0, 43) })],
    ['a pushkey off the P-256 curve', (d) => ({ ...d, pushkey: `${d.pushkey.slice(0, -2)}AA` })],
    ['a data.endpoint that is not a URL', (d) => ({ ...d, data: { ...d.data, endpoint: 'not a url' } })],
    ['a data.endpoint of the wrong type', (d) => ({ ...d, data: { ...d.data, endpoint: { url: 'x' } } })],
  ];
  for (const [name, mutate] of cases) {
    it(name, async () => {
      const bad = mutate(browserPusherDevice(APP, fake.subscribe())) as any;
      const good = browserPusherDevice(APP, fake.subscribe());
      const before = fake.received.length;
      const res = await gw.notify(exampleNotification([bad, good], { event_id: eventId() }));
      assert.deepEqual([res.status, res.json], [200, { rejected: [bad.pushkey] }]);
      assert.equal(fake.received.length, before + 1, 'only the good device was pushed');
    });
  }
});
