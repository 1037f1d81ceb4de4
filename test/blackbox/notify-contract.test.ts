/** The HTTP contract of POST /_matrix/push/v1/notify (REFERENCE §1), with the synthetic provider. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFakeProviderModule } from '../fakes/fake-provider.ts';
import { device, exampleNotification } from '../helpers/fixtures.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

const CONFIG = `
apps:
  com.example.fake:
    type: fake
  'im.glob.*':
    type: fake
  'im.glob.two.*':
    type: fake
dispatch:
  request_budget_ms: 2000
  retry: { max_attempts: 3, initial_delay_ms: 10, max_delay_ms: 50 }
`;

describe('notify: responses', () => {
  const fake = createFakeProviderModule();
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway(CONFIG, { extraProviders: [fake.module] });
  });
  after(() => gw.close());

  it('answers 200 with an empty rejected list when every device is delivered', async () => {
    const res = await gw.notify(exampleNotification([device('com.example.fake', 'accept-1')]));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(res.json, { rejected: [] });
  });

  it('lists the pushkeys a provider rejects', async () => {
    const res = await gw.notify(
      exampleNotification([device('com.example.fake', 'accept-2'), device('com.example.fake', 'reject-2')]),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { rejected: ['reject-2'] });
  });

  it('answers 400 M_NOT_JSON for a body that is not JSON', async () => {
    for (const body of ['{bad', '', 'NaN', '{"notification": Infinity}']) {
      const res = await gw.notify(body);
      assert.equal(res.status, 400, body);
      assert.equal(res.json.errcode, 'M_NOT_JSON', body);
    }
  });
});
