/**
 * APNs payload truncation: Herald's one-pass cut (src/providers/apns/apns-truncate.ts) against the
 * baseline of Sygnal's apnstruncate.py algorithm, written here in TypeScript (remove one character
 * from the longest text, re-serialise, repeat), in the same run, for growing message bodies.
 * Run: node_modules/.bin/node bench/truncate.ts
 */
import { truncateApnsPayload } from '../src/providers/apns/apns-truncate.ts';

/** The baseline: Sygnal's loop, one character per iteration, full re-serialisation each time. */
function truncateLikeSygnal(payload: { aps: { alert: { body: string } } }, maxBytes: number): string {
  let body = [...payload.aps.alert.body];
  let text = JSON.stringify(payload);
  while (Buffer.byteLength(text) > maxBytes && body.length > 0) {
    body = body.slice(0, -1);
    text = JSON.stringify({ ...payload, aps: { ...payload.aps, alert: { body: body.join('') } } });
  }
  return text;
}

function time(op: () => unknown, minMs = 300): number {
  let runs = 0;
  const start = performance.now();
  do {
    op();
    runs++;
  } while (performance.now() - start < minMs);
  return (performance.now() - start) / runs;
}

console.log(`Node ${process.version}; milliseconds per payload (lower is better)`);
console.log('body         sygnal-style   herald    ratio');
for (const kb of [4, 8, 16, 32, 64]) {
  const payload = { aps: { alert: { body: 'ü'.repeat((kb * 1024) / 2) } } };
  const herald = time(() => truncateApnsPayload(structuredClone(payload)));
  const baseline =
    kb <= 16
      ? time(() => truncateLikeSygnal(payload, 4096), 200)
      : time(() => truncateLikeSygnal(payload, 4096), 0);
  console.log(
    `${`${kb} KB`.padEnd(12)} ${baseline.toFixed(2).padStart(12)} ${herald.toFixed(3).padStart(9)} ${(baseline / herald).toFixed(0).padStart(8)}x`,
  );
}
