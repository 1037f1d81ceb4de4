/**
 * One FCM test world: a fake OAuth token endpoint, a service account key file pointing at it, a
 * fake FCM endpoint trusting the tokens it issues, and a gateway configured for them.
 */
import type { AppDeps } from '../../src/app.ts';
import type { Clock } from '../../src/clock.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { type FakeFcm, startFakeFcm } from './fake-fcm.ts';
import {
  type FakeGoogleOAuth,
  type FakeServiceAccount,
  startFakeGoogleOAuth,
  writeServiceAccount,
} from './fake-google-oauth.ts';

export const FCM_APP = 'com.example.herald.android';
export const PROJECT_ID = 'herald-test';

export interface FcmWorld {
  oauth: FakeGoogleOAuth;
  fcm: FakeFcm;
  account: FakeServiceAccount;
  gw: TestGateway;
  close(): Promise<void>;
}

/** A test clock: real time plus an offset the test can move forward. */
export function offsetClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    sleep: (ms, signal) =>
      new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const timer = setTimeout(resolve, ms);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      }),
    advance: (ms) => {
      offset += ms;
    },
  };
}

/** YAML for the app section; `extra` lines are indented into it. */
export function fcmAppYaml(account: FakeServiceAccount, endpoint: string, extra = ''): string {
  const indented = extra
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => `    ${line}`)
    .join('\n');
  return `
apps:
  ${FCM_APP}:
    type: gcm
    api_version: v1
    project_id: ${PROJECT_ID}
    service_account_file: ${JSON.stringify(account.file)}
    endpoint: ${endpoint}
${indented}
dispatch:
  request_budget_ms: 3000
  retry: { max_attempts: 3, initial_delay_ms: 10, max_delay_ms: 50 }
`;
}

export async function startFcmWorld(
  options: { appYaml?: string; deps?: AppDeps; clock?: Clock; yaml?: (base: string) => string } = {},
): Promise<FcmWorld> {
  const clock = options.clock;
  const oauth = await startFakeGoogleOAuth(clock ? { now: () => clock.now() } : {});
  const account = await writeServiceAccount(oauth.tokenUri, { projectId: PROJECT_ID });
  oauth.trust(account);
  const fcm = await startFakeFcm({ projectId: PROJECT_ID, isValidToken: (t) => oauth.issued.has(t) });
  let yaml = fcmAppYaml(account, fcm.url, options.appYaml);
  if (options.yaml) yaml = options.yaml(yaml);
  const gw = await startGateway(yaml, { ...(clock ? { clock } : {}), ...options.deps });
  return {
    oauth,
    fcm,
    account,
    gw,
    close: async () => {
      await gw.close();
      await Promise.all([fcm.close(), oauth.close()]);
    },
  };
}
