/**
 * What the gateway remembers between requests: which pushes were already made (duplicate
 * suppression, spec: "necessary") and which pushkeys a provider declared dead. One instance keeps
 * this in memory; several instances share it through Redis behind the same interface.
 *
 * Keys are built by the dispatcher from hashes, so a store never sees a pushkey.
 */

/** A final outcome worth remembering: the same push must not be made again inside the window. */
export type SettledOutcome = 'delivered' | 'rejected' | 'dropped';

export type ClaimResult =
  /** Nobody has this push: the caller sends it and must settle() or release() the key. */
  | { kind: 'claimed' }
  /** It was already made; answer the same way. */
  | { kind: 'settled'; outcome: SettledOutcome }
  /** Another request is sending it now; resolves with its outcome, or null if it gave up. */
  | { kind: 'pending'; outcome: Promise<SettledOutcome | null> };

export interface StateStore {
  /** Atomically claims `key` for `leaseMs` (the sender's time budget) unless it is claimed or settled. */
  claim(key: string, leaseMs: number): Promise<ClaimResult>;
  /** Records the outcome of a claimed push for `ttlMs` and wakes anyone waiting for it. */
  settle(key: string, outcome: SettledOutcome, ttlMs: number): Promise<void>;
  /** Gives a claim up (the push failed temporarily) so that a retry may send it. */
  release(key: string): Promise<void>;
  /** Remembers that a provider declared a pushkey dead at `atMs`. */
  rememberRejected(key: string, atMs: number, ttlMs: number): Promise<void>;
  /** When a provider declared this pushkey dead, if inside the window. */
  rejectedAt(key: string): Promise<number | null>;
  forgetRejected(key: string): Promise<void>;
  close(): Promise<void>;
}
