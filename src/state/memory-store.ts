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

/** A Map used as an LRU-by-insertion with expiry; re-setting a key moves it to the back. */
class BoundedTtlMap<V extends { expiresAt: number }> {
  readonly #entries = new Map<string, V>();
  readonly #maxEntries: number;
  readonly #clock: Clock;

  constructor(maxEntries: number, clock: Clock) {
    this.#maxEntries = maxEntries;
    this.#clock = clock;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= this.#clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
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

  /** Drops expired entries from the front, then the oldest until under the bound. */
  #evict(): void {
    const now = this.#clock.now();
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && entry.expiresAt > now) break;
      this.#entries.delete(key);
    }
  }
}

export class MemoryStateStore implements StateStore {
  readonly #pushes: BoundedTtlMap<PushEntry>;
  readonly #rejected: BoundedTtlMap<{ expiresAt: number; at: number }>;
  readonly #clock: Clock;

  constructor(options: { maxEntries: number; clock: Clock }) {
    this.#clock = options.clock;
    this.#pushes = new BoundedTtlMap(options.maxEntries, options.clock);
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
    const entry = this.#pushes.get(key);
    this.#pushes.set(key, { state: 'settled', expiresAt: this.#clock.now() + ttlMs, outcome });
    if (entry?.state === 'pending') entry.wake(outcome);
  }

  async release(key: string): Promise<void> {
    const entry = this.#pushes.get(key);
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
