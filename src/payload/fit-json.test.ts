import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cutUtf8, fitJson, jsonStringBytes } from './fit-json.ts';

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

describe('jsonStringBytes', () => {
  const cases: [string, number][] = [
    ['', 2],
    ['abc', 5],
    ['é', 4],
    ['€', 5],
    ['🚀', 6],
    ['"\\', 6],
    ['\n\u0001', 10],
    ['\ud800', 8],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} takes ${expected} bytes`, () => {
      assert.equal(jsonStringBytes(text), expected);
      assert.equal(jsonStringBytes(text), Buffer.byteLength(JSON.stringify(text)));
    });
  }
});

describe('cutUtf8', () => {
  it('leaves short text alone', () => assert.equal(cutUtf8('hello', 5), 'hello'));
  it('cuts at a character boundary and ends in …', () => {
    const cut = cutUtf8('ééééé', 7);
    assert.equal(cut, 'éé…');
    assert.ok(Buffer.byteLength(cut) <= 7);
  });
  it('never splits a surrogate pair', () => {
    const cut = cutUtf8('🚀🚀🚀', 9);
    assert.equal(cut, '🚀…');
  });
});

describe('fitJson', () => {
  it('returns the value itself when it fits', () => {
    const value = { a: 'short' };
    assert.equal(fitJson(value, 100), value);
  });

  it('cuts the longest string first, and only as much as needed', () => {
    const value = { short: 'x'.repeat(50), long: 'y'.repeat(500) };
    const fitted = fitJson(value, 300)!;
    assert.equal(fitted.short, value.short);
    assert.ok(fitted.long.endsWith('…'));
    assert.ok(bytes(fitted) <= 300);
    assert.ok(bytes(fitted) >= 295, `cut too much: ${bytes(fitted)}`);
    assert.equal(value.long.length, 500, 'the input is not mutated');
  });

  it('moves on to the next field when the longest is not enough', () => {
    const fitted = fitJson({ a: 'a'.repeat(100), b: 'b'.repeat(90), c: 'keep' }, 40)!;
    assert.ok(bytes(fitted) <= 40, JSON.stringify(fitted));
    assert.equal(fitted.c, 'keep');
  });

  it('respects multi-byte characters and escapes', () => {
    const value = { body: '"é🚀\n'.repeat(3000) };
    const fitted = fitJson(value, 1000)!;
    assert.ok(bytes(fitted) <= 1000);
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(fitted)));
    assert.ok(!/\ufffd/.test(Buffer.from(JSON.stringify(fitted)).toString('utf8')), 'no broken characters');
  });

  it('only cuts what the predicate allows, and gives up when that is not enough', () => {
    const value = { id: 'i'.repeat(200), text: 't'.repeat(200) };
    const cuttable = (path: readonly (string | number)[]) => path[0] === 'text';
    const fitted = fitJson(value, 250, cuttable)!;
    assert.equal(fitted.id, value.id);
    assert.equal(fitJson(value, 100, cuttable), null);
  });

  it('reaches strings inside arrays', () => {
    const fitted = fitJson({ args: ['a', 'b'.repeat(300)] }, 100)!;
    assert.equal(fitted.args[0], 'a');
    assert.ok(bytes(fitted) <= 100);
  });

  it('fits a 64 KB message in linear time (well under a second for 200 of them)', () => {
    const big = { aps: { alert: { body: 'ü'.repeat(32 * 1024) } } };
    for (let i = 0; i < 200; i++) assert.ok(bytes(fitJson(big, 4096)) <= 4096);
  });
});
