import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPublicAddress } from './address-policy.ts';

describe('isPublicAddress', () => {
  const cases: [string, boolean][] = [
    ['8.8.8.8', true],
    ['1.1.1.1', true],
    ['2606:4700:4700::1111', true],
    ['127.0.0.1', false],
    ['127.255.0.9', false],
    ['0.0.0.0', false],
    ['10.0.0.1', false],
    ['172.16.5.4', false],
    ['172.32.0.1', true],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['100.128.0.1', true],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['::', false],
    ['::1', false],
    ['[::1]', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:7f00:1', false],
    ['::ffff:8.8.8.8', true],
    ['64:ff9b::10.0.0.1', false],
    ['64:ff9b::8.8.8.8', true],
    ['::127.0.0.1', false],
    ['fd12:3456::1', false],
    ['fe80::1%eth0', false],
    ['ff02::1', false],
    ['2001:db8::1', false],
    ['2002:7f00:1::', false],
    ['2002:a00:1::1', false],
    ['2002:808:808::1', true],
    ['::ffff:0:7f00:1', false],
    ['::ffff:0:808:808', true],
    ['3fff::1', false],
    ['5f00::1', false],
    ['not an address', false],
    ['', false],
  ];
  for (const [address, expected] of cases) {
    it(`${JSON.stringify(address)} is ${expected ? 'public' : 'not public'}`, () => {
      assert.equal(isPublicAddress(address), expected);
    });
  }
});
