/** FCM: the `type: gcm` app section, as a Sygnal user writes it, and the errors for what cannot work. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { startFakeFcm } from '../fakes/fake-fcm.ts';
import { FCM_APP } from '../fakes/fake-fcm-setup.ts';
import {
  type FakeGoogleOAuth,
  startFakeGoogleOAuth,
  writeServiceAccount,
} from '../fakes/fake-google-oauth.ts';
import { device, exampleNotification } from '../helpers/fixtures.ts';
import { startGateway } from '../helpers/gateway.ts';

const KEY = `apps["${FCM_APP}"]`;

function app(lines: string): string {
  return `apps:\n  ${FCM_APP}:\n    type: gcm\n${lines
    .trim()
    .split('\n')
    .map((l) => `    ${l.trim()}`)
    .join('\n')}\n`;
}

async function configError(yaml: string): Promise<ConfigError> {
  try {
    const gw = await startGateway(yaml);
    await gw.close();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('the gateway started');
}

describe('FCM: config', () => {
  let oauth: FakeGoogleOAuth;
  let file: string;
  before(async () => {
    oauth = await startFakeGoogleOAuth();
    file = (await writeServiceAccount(oauth.tokenUri)).file;
  });
  after(() => oauth.close());

  it('refuses api_version: legacy, saying Google shut it down and how to move to v1', async () => {
    const error = await configError(app(`api_version: legacy\napi_key: AIzaSyOld`));
    assert.equal(error.path, `${KEY}.api_version`);
    assert.match(error.message, /shut the legacy FCM API down in 2024/);
    assert.match(error.message, /api_version: v1/);
    assert.match(error.message, /project_id/);
    assert.match(error.message, /service_account_file/);
  });

  it('refuses an api_key without api_version (Sygnal then means the legacy API)', async () => {
    const error = await configError(app('api_key: AIzaSyOld'));
    assert.equal(error.path, `${KEY}.api_key`);
    assert.match(error.message, /2024/);
  });

  it('refuses an unknown api_version', async () => {
    const error = await configError(app(`api_version: v2\nproject_id: p\nservice_account_file: ${file}`));
    assert.equal(error.path, `${KEY}.api_version`);
  });

  it('names project_id when neither the config nor the key file has one', async () => {
    const noProject = await writeServiceAccount(oauth.tokenUri, { projectId: null });
    const error = await configError(app(`api_version: v1\nservice_account_file: ${noProject.file}`));
    assert.equal(error.path, `${KEY}.project_id`);
    assert.match(error.message, /Firebase project ID/);
    const adc = await configError(app('api_version: v1'));
    assert.equal(adc.path, `${KEY}.project_id`);
  });

  it('names service_account_file when it is missing, not JSON, not a service account or has a bad key', async () => {
    const dir = dirname(file);
    const notJson = join(dir, 'not.json');
    await writeFile(notJson, 'hello');
    const user = join(dir, 'user.json');
    await writeFile(user, JSON.stringify({ type: 'authorized_user', client_id: 'x' }));
    const badKey = join(dir, 'badkey.json');
    await writeFile(
      badKey,
      JSON.stringify({
        type: 'service_account',
        client_email: 'a@b',
        private_key: 'nope',
        token_uri: oauth.tokenUri,
      }),
    );
    for (const [path, pattern] of [
      [join(dir, 'missing.json'), /cannot read/],
      [notJson, /not JSON/],
      [user, /not a service account key/],
      [badKey, /private_key/],
    ] as const) {
      const error = await configError(app(`api_version: v1\nproject_id: p\nservice_account_file: ${path}`));
      assert.equal(error.path, `${KEY}.service_account_file`, path);
      assert.match(error.message, pattern);
    }
  });

  it('names fcm_options.android when it is not a mapping', async () => {
    const error = await configError(
      app(`api_version: v1\nproject_id: p\nservice_account_file: ${file}\nfcm_options: { android: high }`),
    );
    assert.equal(error.path, `${KEY}.fcm_options.android`);
  });

  it('takes project_id from the key file when the config leaves it out', async () => {
    const account = await writeServiceAccount(oauth.tokenUri, { projectId: 'from-the-file' });
    oauth.trust(account);
    const fcm = await startFakeFcm({ projectId: 'from-the-file', isValidToken: (t) => oauth.issued.has(t) });
    const gw = await startGateway(
      app(`api_version: v1\nservice_account_file: ${account.file}\nendpoint: ${fcm.url}`),
    );
    try {
      const res = await gw.notify(exampleNotification([device(FCM_APP, 'ok-file-project')]));
      assert.equal(res.status, 200, JSON.stringify(fcm.refusals));
      assert.equal(fcm.received[0]!.path, '/v1/projects/from-the-file/messages:send');
    } finally {
      await gw.close();
      await fcm.close();
    }
  });

  it('accepts a Sygnal v1 app section unchanged (max_connections, inflight_request_limit, fcm_options)', async () => {
    const gw = await startGateway(
      app(`
        api_version: v1
        project_id: my-project
        service_account_file: ${file}
        max_connections: 20
        inflight_request_limit: 512
        send_badge_counts: true
        fcm_options: { android: { priority: normal } }`),
    );
    await gw.close();
  });
});
