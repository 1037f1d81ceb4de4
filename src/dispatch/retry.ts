/**
 * The one retry policy: exponential backoff with jitter, capped, honouring a push service's
 * Retry-After, and never sleeping past the request's budget (the homeserver is waiting; past the
 * budget it is better to answer 502 and let the homeserver retry later).
 */

export interface RetryPolicy {
  /** Tries in all, the first included. */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
}

/**
 * How long to wait before try `attempt + 1`, or null to stop. `random` is in [0, 1).
 * "Equal jitter": half the backoff is fixed and half random, so retries of many devices that failed
 * together spread out but never fire at once.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  options: { retryAfterMs: number | undefined; remainingMs: number; random: number },
): number | null {
  if (attempt >= policy.maxAttempts) return null;
  let delay: number;
  if (options.retryAfterMs !== undefined) {
    delay = options.retryAfterMs;
  } else {
    const backoff = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** (attempt - 1));
    delay = backoff / 2 + (backoff / 2) * options.random;
  }
  // Leave the next try some time to run: a retry that starts just before the deadline is wasted.
  if (delay >= options.remainingMs * 0.9) return null;
  return Math.round(delay);
}

/** Parses an HTTP Retry-After (delta-seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  // Otherwise only an HTTP-date (RFC 9110 §5.6.7, "Sun, 06 Nov 1994 08:49:37 GMT"): Date.parse
  // alone would read "1.5" or "-1" as dates.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text.trim())) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
