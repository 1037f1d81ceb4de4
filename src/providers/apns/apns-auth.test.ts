/** Certificate auth: a certfile whose key is not the certificate's own is refused at start. */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLIENT_CERT } from '../../../test/fakes/fake-apns-setup.ts';
import { startGateway } from '../../../test/helpers/gateway.ts';

describe('apns certfile', () => {
  it('a key that does not match the certificate: a config error naming certfile, at start', async () => {
    const certificate = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(
      readFileSync(CLIENT_CERT, 'utf8'),
    )![0];
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const certfile = join(mkdtempSync(join(tmpdir(), 'herald-apns-')), 'mismatch.pem');
    writeFileSync(certfile, `${certificate}\n${otherKey}`);
    const config = { apps: { 'com.example.app': { type: 'apns', certfile } } };
    await assert.rejects(startGateway(config), (error: Error & { path?: string }) => {
      assert.equal(error.name, 'ConfigError');
      assert.equal(error.path, 'apps["com.example.app"].certfile');
      assert.match(error.message, /does not belong to its certificate/);
      return true;
    });
  });
});
