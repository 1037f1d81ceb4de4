/**
 * The in-memory StateStore: bounded (oldest entries go first once `maxEntries` is reached) and
 * lazily expired. Concurrent duplicates inside this process wait on a promise for the first
 * sender's outcome instead of pushing twice.
 */
import type { Clock } from '../clock.ts';
import type { ClaimResult, SettledOutcome, StateStore } from './state-store.ts';

type PushEntry =
  | {
      state: 'pending';
      expiresAt: number;
      wake: (outcome: SettledOutcome | null) => void;
      outcome: Promise<SettledOutcome | null>;
    }
  | { state: 'settled'; expiresAt: number; outcome: SettledOutcome };

interface DropPolicy<V> {
  /** Told about every entry that goes by expiry or eviction (not by delete or replacement). */
  onDrop?: (value: V) => void;
  /** Entries that must not be evicted for room while unexpired (pushes in flight). */
  pinned?: (value: V) => boolean;
}

/** A Map used as an LRU-by-insertion with expiry; re-setting a key moves it to the back. */
class BoundedTtlMap<V extends { expiresAt: number }> {
  readonly #entries = new Map<string, V>();
  readonly #maxEntries: number;
  readonly #clock: Clock;
  readonly #policy: DropPolicy<V>;

  constructor(maxEntries: number, clock: Clock, policy: DropPolicy<V> = {}) {
    this.#maxEntries = maxEntries;
    this.#clock = clock;
    this.#policy = policy;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= this.#clock.now()) {
      this.#drop(key, entry);
      return undefined;
    }
    return entry;
  }

  /** The entry as stored, expired or not. */
  peek(key: string): V | undefined {
    return this.#entries.get(key);
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#maxEntries) this.#evict();
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops expired entries from the front, then the oldest unpinned ones until under the bound. */
  #evict(): void {
    const now = this.#clock.now();
    for (const [key, entry] of this.#entries) {
      const expired = entry.expiresAt <= now;
      if (this.#entries.size <= this.#maxEntries && !expired) break;
      if (!expired && this.#policy.pinned?.(entry)) continue;
      this.#drop(key, entry);
    }
  }

  #drop(key: string, entry: V): void {
    this.#entries.delete(key);
    this.#policy.onDrop?.(entry);
  }
}

export class MemoryStateStore implements StateStore {
  readonly #pushes: BoundedTtlMap<PushEntry>;
  readonly #rejected: BoundedTtlMap<{ expiresAt: number; at: number }>;
  readonly #clock: Clock;

  constructor(options: { maxEntries: number; clock: Clock }) {
    this.#clock = options.clock;
    // A claim that lapses (its sender's budget ran out) wakes its waiters, who may then claim it.
    this.#pushes = new BoundedTtlMap<PushEntry>(options.maxEntries, options.clock, {
      onDrop: (entry) => {
        if (entry.state === 'pending') entry.wake(null);
      },
      pinned: (entry) => entry.state === 'pending',
    });
    this.#rejected = new BoundedTtlMap(options.maxEntries, options.clock);
  }

  async claim(key: string, leaseMs: number): Promise<ClaimResult> {
    const entry = this.#pushes.get(key);
    if (entry?.state === 'settled') return { kind: 'settled', outcome: entry.outcome };
    if (entry?.state === 'pending') return { kind: 'pending', outcome: entry.outcome };
    let wake!: (outcome: SettledOutcome | null) => void;
    const outcome = new Promise<SettledOutcome | null>((resolve) => {
      wake = resolve;
    });
    this.#pushes.set(key, { state: 'pending', expiresAt: this.#clock.now() + leaseMs, wake, outcome });
    return { kind: 'claimed' };
  }

  async settle(key: string, outcome: SettledOutcome, ttlMs: number): Promise<void> {
    // peek, not get: a claim whose lease just lapsed still has waiters to wake.
    const entry = this.#pushes.peek(key);
    this.#pushes.set(key, { state: 'settled', expiresAt: this.#clock.now() + ttlMs, outcome });
    if (entry?.state === 'pending') entry.wake(outcome);
  }

  async release(key: string): Promise<void> {
    const entry = this.#pushes.peek(key);
    if (entry?.state !== 'pending') return;
    this.#pushes.delete(key);
    entry.wake(null);
  }

  async rememberRejected(key: string, atMs: number, ttlMs: number): Promise<void> {
    this.#rejected.set(key, { at: atMs, expiresAt: atMs + ttlMs });
  }

  async rejectedAt(key: string): Promise<number | null> {
    return this.#rejected.get(key)?.at ?? null;
  }

  async forgetRejected(key: string): Promise<void> {
    this.#rejected.delete(key);
  }

  async close(): Promise<void> {}

  /** For tests and metrics: how many push records are held. */
  get size(): number {
    return this.#pushes.size;
  }
}
