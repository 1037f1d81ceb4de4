import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { describe, it } from 'node:test';
import { BlockedAddressError, createGuardedLookup } from './outbound-http.ts';

/** A resolver answering from a table, as DNS would (rebinding, mixed answers). */
function resolverFor(addresses: LookupAddress[]) {
  return (_host: string, _options: unknown, callback: (e: null, a: LookupAddress[]) => void) =>
    callback(null, addresses);
}

function lookupAll(addresses: LookupAddress[]): Promise<LookupAddress[]> {
  const lookup = createGuardedLookup(resolverFor(addresses));
  return new Promise((resolve, reject) =>
    lookup('push.example', { all: true }, ((error: Error | null, result: LookupAddress[]) =>
      error ? reject(error) : resolve(result)) as never),
  );
}

describe('createGuardedLookup', () => {
  it('keeps only the public addresses of a name that resolves to public and private ones', async () => {
    const result = await lookupAll([
      { address: '127.0.0.1', family: 4 },
      { address: '93.184.215.14', family: 4 },
      { address: '::1', family: 6 },
      { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
    ]);
    assert.deepEqual(
      result.map((a) => a.address),
      ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
    );
  });

  it('refuses a name that resolves only to non-public addresses', async () => {
    await assert.rejects(
      lookupAll([
        { address: '10.0.0.8', family: 4 },
        { address: '::ffff:169.254.169.254', family: 6 },
      ]),
      BlockedAddressError,
    );
  });

  it('answers the single-address form net.connect uses without autoSelectFamily', async () => {
    const lookup = createGuardedLookup(resolverFor([{ address: '8.8.8.8', family: 4 }]));
    const [address, family] = await new Promise<[string, number]>((resolve, reject) =>
      lookup('push.example', {}, (error, a, f) =>
        error ? reject(error) : resolve([a as string, f as number]),
      ),
    );
    assert.deepEqual([address, family], ['8.8.8.8', 4]);
  });
});
