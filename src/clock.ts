/** Time as the gateway sees it; tests inject a fake one so retries and TTLs run in fake time. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

import { setTimeout as delay } from 'node:timers/promises';

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, signal ? { signal } : undefined),
};
