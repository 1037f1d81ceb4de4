/**
 * Duplicate suppression by event_id (spec: "necessary"), the memory of dead pushkeys, and the
 * per-app in-flight limit.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createFakeProviderModule } from '../fakes/fake-provider.ts';
import { badgeOnlyNotification, device, exampleNotification } from '../helpers/fixtures.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

const fake = createFakeProviderModule();
let gw: TestGateway;
before(async () => {
  gw = await startGateway(
    `
apps:
  com.example.fake: { type: fake }
  com.example.tiny: { type: fake, inflight_request_limit: 1 }
dispatch:
  request_budget_ms: 3000
  retry: { max_attempts: 2, initial_delay_ms: 5, max_delay_ms: 10 }
`,
    { extraProviders: [fake.module] },
  );
});
after(() => gw.close());
beforeEach(() => {
  fake.calls.length = 0;
});

async function deliveries(): Promise<{ delivered: number; duplicate: number }> {
  const metric = await gw.app.metrics.deliveries.get();
  const count = (outcome: string) =>
    metric.values.find((v) => v.labels.app === 'com.example.fake' && v.labels.outcome === outcome)?.value ??
    0;
  return { delivered: count('delivered'), duplicate: count('duplicate') };
}

describe('duplicate suppression', () => {
  it('pushes the same event to the same device once, and answers the repeat the same way', async () => {
    const body = exampleNotification(
      [device('com.example.fake', 'accept-dup'), device('com.example.fake', 'reject-dup')],
      {
        event_id: '$dup-1',
      },
    );
    const first = await gw.notify(body);
    const second = await gw.notify(body);
    assert.deepEqual([first.status, first.json], [200, { rejected: ['reject-dup'] }]);
    assert.deepEqual([second.status, second.json], [200, { rejected: ['reject-dup'] }]);
    assert.equal(fake.calls.filter((c) => c.pushkey === 'accept-dup').length, 1);
    assert.equal(fake.calls.filter((c) => c.pushkey === 'reject-dup').length, 1);
  });

  it('counts a suppressed duplicate as a duplicate, not as a second delivery', async () => {
    const before = await deliveries();
    const body = exampleNotification([device('com.example.fake', 'accept-count')], {
      event_id: '$dup-count',
    });
    await gw.notify(body);
    await gw.notify(body);
    const after = await deliveries();
    assert.equal(after.delivered - before.delivered, 1);
    assert.equal(after.duplicate - before.duplicate, 1);
  });

  it('still pushes the same event to another device, and another event to the same device', async () => {
    await gw.notify(exampleNotification([device('com.example.fake', 'accept-x')], { event_id: '$dup-2' }));
    await gw.notify(exampleNotification([device('com.example.fake', 'accept-y')], { event_id: '$dup-2' }));
    await gw.notify(exampleNotification([device('com.example.fake', 'accept-x')], { event_id: '$dup-3' }));
    assert.equal(fake.calls.length, 3);
  });

  it('never deduplicates badge-only updates', async () => {
    await gw.notify(badgeOnlyNotification([device('com.example.fake', 'accept-badge')], 3));
    await gw.notify(badgeOnlyNotification([device('com.example.fake', 'accept-badge')], 3));
    assert.equal(fake.calls.length, 2);
  });

  it('makes concurrent duplicates wait for the first outcome instead of pushing twice', async () => {
    const body = exampleNotification([device('com.example.fake', 'slow-150-dup')], {
      event_id: '$dup-concurrent',
    });
    const answers = await Promise.all([gw.notify(body), gw.notify(body), gw.notify(body)]);
    for (const res of answers) assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
    assert.equal(fake.calls.length, 1);
  });

  it('pushes again on the retry of a request that failed temporarily', async () => {
    const body = exampleNotification([device('com.example.fake', 'temporary-dup')], {
      event_id: '$dup-retry',
    });
    assert.equal((await gw.notify(body)).status, 502);
    assert.equal((await gw.notify(body)).status, 502);
    assert.equal(fake.calls.length, 4, 'two tries on each request');
  });
});

describe('memory of dead pushkeys', () => {
  it('rejects a pushkey the provider declared dead on later events without asking the provider', async () => {
    const dead = device('com.example.fake', 'reject-dead', { pushkey_ts: 100 });
    await gw.notify(exampleNotification([dead], { event_id: '$dead-1' }));
    const later = await gw.notify(exampleNotification([dead], { event_id: '$dead-2' }));
    assert.deepEqual(later.json, { rejected: ['reject-dead'] });
    assert.equal(fake.calls.length, 1);
  });

  it('tries again when the pusher was registered after the rejection', async () => {
    await gw.notify(
      exampleNotification([device('com.example.fake', 'reject-reborn', { pushkey_ts: 100 })], {
        event_id: '$r-1',
      }),
    );
    const renewed = device('com.example.fake', 'reject-reborn', {
      pushkey_ts: Math.floor(Date.now() / 1000) + 60,
    });
    await gw.notify(exampleNotification([renewed], { event_id: '$r-2' }));
    assert.equal(fake.calls.length, 2);
  });
});

/** Waits until the provider has started a push (so the next request really overlaps it). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('inflight_request_limit', () => {
  it('answers 503 with Retry-After once an app has its limit of pushes in flight', async () => {
    const slow = exampleNotification([device('com.example.tiny', 'slow-300-busy')], { event_id: '$busy-1' });
    const other = exampleNotification([device('com.example.tiny', 'accept-busy')], { event_id: '$busy-2' });
    const firstRequest = gw.notify(slow);
    await until(() => fake.calls.some((c) => c.pushkey === 'slow-300-busy'));
    const second = await gw.notify(other);
    assert.equal(second.status, 503);
    assert.equal(second.headers.get('retry-after'), '1');
    assert.equal((await firstRequest).status, 200);
    // Once the slot is free, the same request goes through.
    assert.equal((await gw.notify(other)).status, 200);
  });

  it('counts each app separately', async () => {
    const slow = exampleNotification([device('com.example.tiny', 'slow-200-sep')], { event_id: '$sep-1' });
    const firstRequest = gw.notify(slow);
    await until(() => fake.calls.some((c) => c.pushkey === 'slow-200-sep'));
    const res = await gw.notify(
      exampleNotification([device('com.example.fake', 'accept-sep')], { event_id: '$sep-2' }),
    );
    assert.equal(res.status, 200);
    await firstRequest;
  });
});
