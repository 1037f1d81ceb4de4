import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EndpointPolicy } from './endpoint-policy.ts';

const verdict = (policy: EndpointPolicy, url: string) => {
  const v = policy.evaluate(url);
  return v.allowed ? (v.trusted ? 'trusted' : 'allowed') : v.reason;
};

describe('EndpointPolicy without allowed_endpoints', () => {
  const policy = new EndpointPolicy(undefined);
  const cases: [string, string][] = [
    ['https://updates.push.services.mozilla.com/wpush/v2/abc', 'allowed'],
    ['https://fcm.googleapis.com:443/fcm/send/x', 'allowed'],
    ['http://updates.push.services.mozilla.com/x', 'scheme'],
    ['ftp://example.org/x', 'scheme'],
    ['https://127.0.0.1/x', 'private_address'],
    ['https://0x7f000001/x', 'private_address'],
    ['https://[::ffff:10.0.0.1]/x', 'private_address'],
    ['https://user:pw@example.org/x', 'invalid_url'],
    ['not a url', 'invalid_url'],
  ];
  for (const [url, expected] of cases)
    it(`${url} → ${expected}`, () => assert.equal(verdict(policy, url), expected));

  it('treats an empty list as no list, as Sygnal does', () => {
    assert.equal(verdict(new EndpointPolicy([]), 'https://push.example.org/x'), 'allowed');
    assert.equal(verdict(new EndpointPolicy([]), 'https://127.0.0.1/x'), 'private_address');
  });
});

describe('EndpointPolicy with allowed_endpoints', () => {
  const policy = new EndpointPolicy(['*.push.example.org', 'ntfy.lan:8080', '127.0.0.1:*']);
  const cases: [string, string][] = [
    ['https://eu.push.example.org/x', 'trusted'],
    ['https://EU.PUSH.EXAMPLE.ORG/x', 'trusted'],
    ['https://push.example.org/x', 'not_allowed'],
    ['http://ntfy.lan:8080/up', 'trusted'],
    ['http://ntfy.lan:8081/up', 'not_allowed'],
    ['http://127.0.0.1:2586/up', 'trusted'],
    ['https://127.0.0.1/up', 'trusted'],
    ['https://evil.example/x?ntfy.lan:8080', 'not_allowed'],
  ];
  for (const [url, expected] of cases)
    it(`${url} → ${expected}`, () => assert.equal(verdict(policy, url), expected));
});
