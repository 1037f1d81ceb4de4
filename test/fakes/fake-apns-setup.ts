/**
 * A gateway wired to a fake APNs, for the black-box tests: a fresh P-256 signing key written as a
 * .p8 file (token auth) or the test client certificate (certificate auth), and the app section
 * pointing `endpoint` at the fake.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppDeps } from '../../src/app.ts';
import type { Clock } from '../../src/clock.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { type FakeApns, type FakeApnsOptions, startFakeApns } from './fake-apns.ts';

export const APP_ID = 'com.example.herald.ios';
export const TOPIC = 'com.example.herald.ios';
export const KEY_ID = 'ABC123DEFG';
export const TEAM_ID = 'TEAM123456';
export const CLIENT_CERT = fileURLToPath(new URL('../fixtures/tls/apns-client.pem', import.meta.url));

/** A throwaway APNs signing key, as Apple's AuthKey_<key_id>.p8 file. */
export function writeSigningKey(): { keyfile: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const dir = mkdtempSync(join(tmpdir(), 'herald-apns-'));
  const keyfile = join(dir, `AuthKey_${KEY_ID}.p8`);
  writeFileSync(keyfile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { keyfile, publicKey };
}

/** A clock whose time only moves when the test says so; sleeps are real (and short in tests). */
export function manualClock(
  start = Date.parse('2026-01-01T00:00:00Z'),
): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      }),
    advance(ms) {
      now += ms;
    },
  };
}

export interface ApnsRig {
  fake: FakeApns;
  gw: TestGateway;
  close(): Promise<void>;
}

export interface RigOptions {
  mode?: 'token' | 'cert';
  /** Extra YAML lines for the app section, indented by the caller's own keys (e.g. "push_type: voip"). */
  app?: Record<string, unknown>;
  fake?: Partial<FakeApnsOptions>;
  deps?: AppDeps;
  budgetMs?: number;
  maxAttempts?: number;
  /** Sygnal's top-level `proxy`. */
  proxy?: string;
}

/** Starts the fake APNs and a gateway whose app `com.example.herald.ios` pushes to it. */
export async function startApnsRig(options: RigOptions = {}): Promise<ApnsRig> {
  const mode = options.mode ?? 'token';
  const key = mode === 'token' ? writeSigningKey() : undefined;
  const fake = await startFakeApns({
    auth: key
      ? { mode: 'token', publicKey: key.publicKey, keyId: KEY_ID, teamId: TEAM_ID }
      : { mode: 'cert' },
    topic: TOPIC,
    ...(options.deps?.clock ? { now: options.deps.clock.now } : {}),
    ...options.fake,
  });
  const credentials = key
    ? { keyfile: key.keyfile, key_id: KEY_ID, team_id: TEAM_ID, topic: TOPIC }
    : { certfile: CLIENT_CERT };
  const config = {
    apps: {
      [APP_ID]: { type: 'apns', endpoint: fake.url, ...credentials, ...options.app },
    },
    dispatch: {
      request_budget_ms: options.budgetMs ?? 3000,
      retry: { max_attempts: options.maxAttempts ?? 3, initial_delay_ms: 10, max_delay_ms: 50 },
    },
    log: { level: 'debug' },
    ...(options.proxy ? { proxy: options.proxy } : {}),
  };
  const gw = await startGateway(config, options.deps);
  return {
    fake,
    gw,
    async close() {
      await gw.close();
      await fake.close();
    },
  };
}

/** The hex device token Herald sends for a base64 pushkey. */
export function hexToken(pushkey: string): string {
  return Buffer.from(pushkey, 'base64').toString('hex');
}

/** A valid base64 pushkey made from a label, so each test uses its own device token. */
export function pushkeyFor(label: string): string {
  return Buffer.from(label.padEnd(32, '.')).toString('base64');
}
