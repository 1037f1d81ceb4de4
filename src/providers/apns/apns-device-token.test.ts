/** Pushkey → device token in the request path. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deviceTokenPath } from './apns-device-token.ts';

describe('apns device token', () => {
  it('converts base64 pushkeys to hex (Sygnal: spqr → b29aab)', () => {
    assert.equal(deviceTokenPath('spqr', true), 'b29aab');
    const token = Buffer.alloc(32, 0xab);
    assert.equal(deviceTokenPath(token.toString('base64'), true), 'ab'.repeat(32));
    assert.equal(deviceTokenPath('qw==', true), 'ab');
    assert.equal(deviceTokenPath('qw', true), 'ab');
  });

  it('refuses what is not base64 (the pushkey is rejected, not a 500)', () => {
    for (const bad of ['not base64!', 'a', 'ab=c', '====', 'spqr-_', 'ab===', 'abc==']) {
      assert.equal(deviceTokenPath(bad, true), null, bad);
    }
  });

  it('sends the pushkey as is without conversion, escaped for the path', () => {
    assert.equal(deviceTokenPath('0a1b2c', false), '0a1b2c');
    assert.equal(deviceTokenPath('a/b?c', false), 'a%2Fb%3Fc');
  });
});
