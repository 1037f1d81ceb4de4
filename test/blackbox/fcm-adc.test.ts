/** FCM without service_account_file: Application Default Credentials (the metadata server, as on GKE). */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FakeFcm, startFakeFcm } from '../fakes/fake-fcm.ts';
import { type FakeMetadata, startFakeMetadata } from '../fakes/fake-fcm-metadata.ts';
import { FCM_APP } from '../fakes/fake-fcm-setup.ts';
import { FCM_SCOPE } from '../fakes/fake-google-oauth.ts';
import { device, exampleNotification } from '../helpers/fixtures.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

describe('FCM: Application Default Credentials', () => {
  let metadata: FakeMetadata;
  let fcm: FakeFcm;
  let gw: TestGateway;
  before(async () => {
    metadata = await startFakeMetadata();
    // This test file runs in its own process: the environment is ours to set.
    process.env.GCE_METADATA_HOST = metadata.host;
    process.env.HOME = await mkdtemp(join(tmpdir(), 'herald-adc-')); // no gcloud well-known file
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    fcm = await startFakeFcm({ projectId: 'adc-project', isValidToken: (t) => metadata.issued.has(t) });
    gw = await startGateway(`
apps:
  ${FCM_APP}:
    type: gcm
    api_version: v1
    project_id: adc-project
    endpoint: ${fcm.url}
`);
  });
  after(async () => {
    await gw.close();
    await Promise.all([fcm.close(), metadata.close()]);
  });

  it('gets a token with the messaging scope from the metadata server and reuses it', async () => {
    for (const eventId of ['$adc1', '$adc2']) {
      const res = await gw.notify(exampleNotification([device(FCM_APP, 'ok-adc')], { event_id: eventId }));
      assert.equal(res.status, 200, JSON.stringify(fcm.refusals));
    }
    assert.equal(fcm.received.length, 2);
    assert.deepEqual(metadata.tokenRequests, [FCM_SCOPE]);
  });
});
