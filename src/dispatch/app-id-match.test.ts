import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppRouter, globToRegExp } from './app-id-match.ts';

describe('globToRegExp', () => {
  const cases: [string, string, boolean][] = [
    ['com.example.*', 'com.example.app', true],
    ['com.example.*', 'com.example.app.ios', true],
    ['com.example.*', 'com.exampleXapp', false],
    ['com.example.?', 'com.example.a', true],
    ['com.example.?', 'com.example.ab', false],
    ['*.ios', 'im.vector.app.ios', true],
    ['*', '', true],
    ['a+b(c)', 'a+b(c)', true],
    ['a+b(c)', 'aab(c)', false],
    ['Com.*', 'com.x', false],
  ];
  for (const [glob, appId, expected] of cases) {
    it(`${glob} ${expected ? 'matches' : 'does not match'} ${appId}`, () => {
      assert.equal(globToRegExp(glob).test(appId), expected);
    });
  }
});

describe('AppRouter', () => {
  const router = new AppRouter([
    ['im.vector.app', 1],
    ['im.vector.*', 2],
    ['im.*.app', 3],
  ]);
  it('prefers an exact key', () =>
    assert.deepEqual(router.route('im.vector.app'), { kind: 'found', key: 'im.vector.app', value: 1 }));
  it('uses the one matching glob', () => assert.equal(router.route('im.vector.web').kind, 'found'));
  it('reports more than one matching glob as ambiguous', () =>
    assert.deepEqual(router.route('im.vector.other.app'), {
      kind: 'ambiguous',
      keys: ['im.vector.*', 'im.*.app'],
    }));
  it('reports no match as unknown', () => assert.deepEqual(router.route('org.other'), { kind: 'unknown' }));
});
