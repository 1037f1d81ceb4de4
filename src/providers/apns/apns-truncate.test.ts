/** Truncation to Apple's 4096 bytes: which fields, where the cut falls, and that it is linear. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { truncateApnsPayload } from './apns-truncate.ts';

const bytes = (text: string) => Buffer.byteLength(text);

function alertWith(locArgs: string[], extra: Record<string, unknown> = {}) {
  return {
    aps: { alert: { 'loc-key': 'MSG_FROM_USER_IN_ROOM_WITH_CONTENT', 'loc-args': locArgs }, badge: 1 },
    ...extra,
  };
}

describe('apns truncation', () => {
  it('leaves a payload that fits untouched, byte for byte', () => {
    const payload = alertWith(['Major Tom', 'Mission Control', 'hi']);
    assert.equal(truncateApnsPayload(payload), JSON.stringify(payload));
    const exact = alertWith(['x']);
    const room = 4096 - bytes(JSON.stringify(exact)) + 1;
    const full = alertWith(['x'.repeat(room)]);
    assert.equal(bytes(JSON.stringify(full)), 4096);
    assert.equal(truncateApnsPayload(full), JSON.stringify(full));
  });

  it('cuts the longest loc-arg first and leaves short ones alone', () => {
    const out = JSON.parse(
      truncateApnsPayload(alertWith(['Major Tom', 'Mission Control', 'x'.repeat(5000)]))!,
    );
    const [from, room, body] = out.aps.alert['loc-args'];
    assert.equal(from, 'Major Tom');
    assert.equal(room, 'Mission Control');
    assert.ok(body.endsWith('…'));
    assert.ok(body.startsWith('xxxx'));
    assert.ok(bytes(JSON.stringify(out)) <= 4096);
    // It uses the room it has: cut to within a few bytes of the limit.
    assert.ok(bytes(JSON.stringify(out)) > 4090);
  });

  it('cuts two long fields down to the same level (as Sygnal’s char-at-a-time loop ends up)', () => {
    const text = truncateApnsPayload(alertWith(['a'.repeat(3000), 'b'.repeat(3000), 'c']))!;
    const [a, b, c] = JSON.parse(text).aps.alert['loc-args'];
    assert.equal(c, 'c');
    assert.ok(Math.abs(bytes(a) - bytes(b)) <= 1, `${bytes(a)} vs ${bytes(b)}`);
    assert.ok(bytes(text) <= 4096 && bytes(text) > 4090);
  });

  it('cuts aps.alert when it is a string, and alert.body', () => {
    const s = JSON.parse(truncateApnsPayload({ aps: { alert: 'z'.repeat(9000) } })!);
    assert.ok(s.aps.alert.endsWith('…') && bytes(JSON.stringify(s)) <= 4096);
    const b = JSON.parse(truncateApnsPayload({ aps: { alert: { title: 'T', body: 'y'.repeat(9000) } } })!);
    assert.equal(b.aps.alert.title, 'T');
    assert.ok(b.aps.alert.body.endsWith('…') && bytes(JSON.stringify(b)) <= 4096);
  });

  // Multi-byte characters: the cut never splits one (a split would be invalid UTF-8 or a lone surrogate).
  const multiByte: [string, string][] = [
    ['2-byte é', 'é'],
    ['3-byte 中', '中'],
    ['4-byte emoji (a surrogate pair in JS)', '😀'],
    ['mixed', 'aé中😀'],
    ['JSON escapes (quote, backslash, control)', '"\\\u0001'],
  ];
  for (const [name, unit] of multiByte) {
    it(`cuts at character boundaries: ${name}`, () => {
      for (let pad = 0; pad < 8; pad++) {
        const body = 'p'.repeat(pad) + unit.repeat(4000);
        const text = truncateApnsPayload(alertWith(['Major Tom', 'Mission Control', body]))!;
        assert.ok(bytes(text) <= 4096, `${bytes(text)} bytes`);
        const cut: string = JSON.parse(text).aps.alert['loc-args'][2];
        assert.ok(cut.endsWith('…'));
        const kept = cut.slice(0, -1);
        assert.ok(body.startsWith(kept), 'a prefix of the original');
        assert.ok(!/[\uD800-\uDBFF]$/.test(kept), 'no lone high surrogate at the end');
        assert.equal(Buffer.from(kept).toString('utf8'), kept, 'valid UTF-8');
        assert.ok(bytes(text) > 4096 - 12, 'wastes at most one character and the escape of another');
      }
    });
  }

  it('fits a 64 KB body in milliseconds (linear, not Sygnal’s quadratic loop)', () => {
    const body = 'Ω😀a'.repeat((64 * 1024) / 7);
    const started = performance.now();
    const text = truncateApnsPayload(alertWith(['Major Tom', 'Mission Control', body]))!;
    const elapsed = performance.now() - started;
    assert.ok(bytes(text) <= 4096);
    // Generous bound for slow CI machines; the quadratic algorithm takes seconds here.
    assert.ok(elapsed < 250, `${elapsed} ms`);
  });

  it('returns null when the payload cannot fit (too much outside the cuttable fields)', () => {
    assert.equal(truncateApnsPayload(alertWith(['x'], { custom: 'q'.repeat(5000) })), null);
    assert.equal(truncateApnsPayload({ room_id: 'r'.repeat(5000) }), null);
  });

  it('cuts a field to nothing when even an ellipsis does not fit', () => {
    // 41 bytes of structure + 4053 = 4094: two bytes of room left for the body, less than "…".
    const fixed = { aps: { alert: { body: 'b'.repeat(100) } }, custom: 'c'.repeat(4053) };
    const text = truncateApnsPayload(fixed);
    assert.equal(JSON.parse(text!).aps.alert.body, '');
    assert.equal(bytes(text!), 4094);
  });
});
