/** TokenCache: one refresh at a time, reuse, refresh margin, and what a failed refresh means. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../clock.ts';
import { TemporaryDeliveryError } from '../provider.ts';
import { type AccessToken, TokenCache } from './token-cache.ts';

/** Lets a background refresh finish (the fake minter answers within a few microtasks). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function setup(lifetimeMs = 3_600_000, options: { mintTimeoutMs?: number } = {}) {
  let now = 0;
  const clock = { ...systemClock, now: () => now };
  const results: string[] = [];
  let calls = 0;
  let fail = false;
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const cache = new TokenCache(
    async (at): Promise<AccessToken> => {
      const call = ++calls;
      await gate;
      if (fail) throw new Error('token endpoint down');
      return { accessToken: `t${call}`, expiresAt: at + lifetimeMs };
    },
    clock,
    (result) => results.push(result),
    options,
  );
  return {
    cache,
    results,
    calls: () => calls,
    advance: (ms: number) => {
      now += ms;
    },
    setFail: (value: boolean) => {
      fail = value;
    },
    hold: () => {
      gate = new Promise((resolve) => {
        release = resolve;
      });
    },
    release: () => release(),
  };
}

describe('TokenCache', () => {
  it('shares one refresh between concurrent callers', async () => {
    const t = setup();
    t.hold();
    const waiting = Promise.all(Array.from({ length: 50 }, () => t.cache.get()));
    t.release();
    assert.deepEqual(new Set(await waiting), new Set(['t1']));
    assert.equal(t.calls(), 1);
    assert.deepEqual(t.results, ['success']);
  });

  it('refreshes 5 minutes before expiry, or at the last quarter of a short lifetime', async () => {
    const t = setup();
    assert.equal(await t.cache.get(), 't1');
    t.advance(54 * 60_000);
    assert.equal(await t.cache.get(), 't1');
    assert.equal(t.calls(), 1);
    t.advance(2 * 60_000);
    // Still valid: returned at once while the refresh runs in the background.
    assert.equal(await t.cache.get(), 't1');
    await settle();
    assert.equal(t.calls(), 2);
    assert.equal(await t.cache.get(), 't2');

    const short = setup(4000);
    await short.cache.get();
    short.advance(2900);
    assert.equal(await short.cache.get(), 't1');
    assert.equal(short.calls(), 1);
    short.advance(200);
    assert.equal(await short.cache.get(), 't1');
    await settle();
    assert.equal(await short.cache.get(), 't2');
  });

  it('refresh hangs while the token is valid: pushes keep using it without waiting', {
    timeout: 2000,
  }, async () => {
    const t = setup();
    assert.equal(await t.cache.get(), 't1');
    t.advance(57 * 60_000); // in the refresh margin, not expired
    t.hold(); // the token endpoint never answers
    for (let i = 0; i < 5; i++) assert.equal(await t.cache.get(), 't1');
    assert.equal(t.calls(), 2); // one refresh in flight, shared
  });

  it('recovers after a hung refresh: the refresh times out and the next call tries again', {
    timeout: 2000,
  }, async () => {
    const t = setup(3_600_000, { mintTimeoutMs: 50 });
    t.hold(); // the first refresh never settles
    await assert.rejects(t.cache.get(), /no token within 50 ms/);
    assert.deepEqual(t.results, ['error']);
    t.release();
    assert.equal(await t.cache.get(), 't2');
    assert.deepEqual(t.results, ['error', 'success']);
  });

  it('a refresh failing with nobody waiting (budget already spent) is no unhandled rejection', async () => {
    const t = setup();
    t.hold();
    t.setFail(true);
    const spent = new AbortController();
    spent.abort();
    await assert.rejects(t.cache.get(spent.signal), TemporaryDeliveryError);
    t.release(); // the shared refresh fails now, with nobody waiting for it
    await settle();
    await settle();
    assert.deepEqual(t.results, ['error']);
  });

  it('a background refresh that fails with nobody waiting is reported, not thrown', async () => {
    const t = setup();
    await t.cache.get();
    t.advance(57 * 60_000);
    t.setFail(true);
    assert.equal(await t.cache.get(), 't1');
    await settle();
    assert.deepEqual(t.results, ['success', 'error']);
  });

  it('a failed refresh is a TemporaryDeliveryError, and the next call tries again', async () => {
    const t = setup();
    t.setFail(true);
    await assert.rejects(t.cache.get(), TemporaryDeliveryError);
    t.setFail(false);
    assert.equal(await t.cache.get(), 't2');
    assert.deepEqual(t.results, ['error', 'success']);
  });

  it('keeps using a token that is still valid when its early refresh fails', async () => {
    const t = setup();
    await t.cache.get();
    t.advance(57 * 60_000); // in the refresh margin, not expired
    t.setFail(true);
    assert.equal(await t.cache.get(), 't1');
    await settle();
    assert.equal(await t.cache.get(), 't1'); // the failed refresh is tried again on a later push
    await settle();
    assert.equal(t.calls(), 3);
    t.advance(4 * 60_000); // expired now
    await assert.rejects(t.cache.get(), TemporaryDeliveryError);
  });

  it('a caller whose budget runs out stops waiting, the refresh carries on for the others', async () => {
    const t = setup();
    t.hold();
    const controller = new AbortController();
    const impatient = t.cache.get(controller.signal);
    const patient = t.cache.get();
    controller.abort();
    await assert.rejects(impatient, TemporaryDeliveryError);
    t.release();
    assert.equal(await patient, 't1');
    assert.equal(t.calls(), 1);
  });

  it('invalidate() makes the next call mint a new token', async () => {
    const t = setup();
    await t.cache.get();
    t.cache.invalidate('t1');
    assert.equal(await t.cache.get(), 't2');
  });
});
