import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRetryAfter, retryDelay } from './retry.ts';

const policy = { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 1000, factor: 2 };
const plenty = { retryAfterMs: undefined, remainingMs: 60_000 };

describe('retryDelay', () => {
  it('grows exponentially with equal jitter', () => {
    assert.equal(retryDelay(policy, 1, { ...plenty, random: 0 }), 50);
    assert.equal(retryDelay(policy, 1, { ...plenty, random: 0.999999 }), 100);
    assert.equal(retryDelay(policy, 2, { ...plenty, random: 0 }), 100);
    assert.equal(retryDelay(policy, 3, { ...plenty, random: 0 }), 200);
  });
  it('is capped at maxDelayMs', () => {
    assert.equal(retryDelay({ ...policy, maxAttempts: 20 }, 10, { ...plenty, random: 0.999999 }), 1000);
  });
  it('stops after maxAttempts tries', () =>
    assert.equal(retryDelay(policy, 4, { ...plenty, random: 0 }), null));
  it('honours Retry-After', () =>
    assert.equal(retryDelay(policy, 1, { ...plenty, retryAfterMs: 3000, random: 0 }), 3000));
  it('gives up rather than sleep past the budget', () => {
    assert.equal(retryDelay(policy, 1, { retryAfterMs: 3000, remainingMs: 2000, random: 0 }), null);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delta-seconds', () => assert.equal(parseRetryAfter('120', now), 120_000));
  it('reads an HTTP date', () => assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000));
  it('clamps a date in the past to 0', () =>
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0));
  it('ignores garbage and absence', () => {
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('1.5', now), undefined);
    assert.equal(parseRetryAfter('-1', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});
