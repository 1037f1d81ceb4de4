import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock } from '../clock.ts';
import { MemoryStateStore } from './memory-store.ts';

function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 1_000_000;
  return {
    now: () => now,
    sleep: async () => {},
    advance: (ms) => {
      now += ms;
    },
  };
}

describe('MemoryStateStore', () => {
  it('hands a key to one sender; others see it pending, then settled', async () => {
    const store = new MemoryStateStore({ maxEntries: 100, clock: fakeClock() });
    assert.deepEqual(await store.claim('k', 1000), { kind: 'claimed' });
    const second = await store.claim('k', 1000);
    assert.equal(second.kind, 'pending');
    await store.settle('k', 'delivered', 60_000);
    assert.equal(second.kind === 'pending' && (await second.outcome), 'delivered');
    assert.deepEqual(await store.claim('k', 1000), { kind: 'settled', outcome: 'delivered' });
  });

  it('lets a waiter take over when the first sender releases', async () => {
    const store = new MemoryStateStore({ maxEntries: 100, clock: fakeClock() });
    await store.claim('k', 1000);
    const waiter = await store.claim('k', 1000);
    await store.release('k');
    assert.equal(waiter.kind === 'pending' && (await waiter.outcome), null);
    assert.deepEqual(await store.claim('k', 1000), { kind: 'claimed' });
  });

  it('forgets settled keys after their TTL, and stale claims after their lease', async () => {
    const clock = fakeClock();
    const store = new MemoryStateStore({ maxEntries: 100, clock });
    await store.claim('done', 1000);
    await store.settle('done', 'delivered', 5000);
    await store.claim('stuck', 1000);
    clock.advance(5001);
    assert.deepEqual(await store.claim('done', 1000), { kind: 'claimed' });
    assert.deepEqual(await store.claim('stuck', 1000), { kind: 'claimed' });
  });

  it('stays within maxEntries, dropping the oldest', async () => {
    const store = new MemoryStateStore({ maxEntries: 100, clock: fakeClock() });
    for (let i = 0; i < 1000; i++) {
      await store.claim(`k${i}`, 1000);
      await store.settle(`k${i}`, 'delivered', 60_000);
    }
    assert.ok(store.size <= 100);
    assert.deepEqual(await store.claim('k999', 1000), { kind: 'settled', outcome: 'delivered' });
    assert.deepEqual(await store.claim('k0', 1000), { kind: 'claimed' });
  });

  it('remembers rejected pushkeys for their window', async () => {
    const clock = fakeClock();
    const store = new MemoryStateStore({ maxEntries: 100, clock });
    await store.rememberRejected('dead', clock.now(), 10_000);
    assert.equal(await store.rejectedAt('dead'), clock.now());
    clock.advance(10_001);
    assert.equal(await store.rejectedAt('dead'), null);
  });

  it('wakes waiters when the sender settles or releases after its lease lapsed', async () => {
    const clock = fakeClock();
    const store = new MemoryStateStore({ maxEntries: 100, clock });
    await store.claim('late', 1000);
    const waiter = await store.claim('late', 1000);
    clock.advance(1001);
    await store.settle('late', 'delivered', 60_000);
    assert.equal(waiter.kind === 'pending' && (await waiter.outcome), 'delivered');

    await store.claim('late-release', 1000);
    const other = await store.claim('late-release', 1000);
    clock.advance(1001);
    await store.release('late-release');
    assert.equal(other.kind === 'pending' && (await other.outcome), null);
  });

  it('wakes waiters when a lapsed claim is found expired', async () => {
    const clock = fakeClock();
    const store = new MemoryStateStore({ maxEntries: 100, clock });
    await store.claim('k', 1000);
    const waiter = await store.claim('k', 1000);
    clock.advance(1001);
    assert.deepEqual(await store.claim('k', 1000), { kind: 'claimed' });
    assert.equal(waiter.kind === 'pending' && (await waiter.outcome), null);
  });

  it('never evicts a push in flight to make room', async () => {
    const store = new MemoryStateStore({ maxEntries: 100, clock: fakeClock() });
    await store.claim('in-flight', 60_000);
    for (let i = 0; i < 500; i++) {
      await store.claim(`k${i}`, 1000);
      await store.settle(`k${i}`, 'delivered', 60_000);
    }
    assert.equal((await store.claim('in-flight', 60_000)).kind, 'pending');
  });
});
