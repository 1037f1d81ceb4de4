/** docs/errors.md must list every error code with the status and errcode src/errors.ts gives it. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { ERROR_CATALOGUE } from '../../src/errors.ts';

it('docs/errors.md and the error catalogue agree', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Map<string, [number, string]>();
  for (const match of doc.matchAll(/^\| `(M_[A-Z_]+)` \| (\d+) \| `(M_[A-Z_]+)` \|/gm)) {
    documented.set(match[1]!, [Number(match[2]), match[3]!]);
  }
  const catalogue = new Map(
    Object.entries(ERROR_CATALOGUE).map(([code, e]) => [code, [e.status, e.errcode]]),
  );
  assert.deepEqual(documented, catalogue);
});
