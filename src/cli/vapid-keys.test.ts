import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseVapidPrivateKey } from '../providers/webpush/vapid-key.ts';
import { main } from './vapid-keys.ts';

function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(
    args,
    (t) => {
      stdout += t;
    },
    (t) => {
      stderr += t;
    },
  );
  return { code, stdout, stderr };
}

const lastLine = (text: string) => text.trim().split('\n').at(-1)!;

describe('vapid-keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-vapid-cli-'));

  it('writes a private key the gateway reads, and prints its public key for browsers', () => {
    const path = join(dir, 'vapid.pem');
    const { code, stdout } = run([path]);
    assert.equal(code, 0);
    const publicKey = lastLine(stdout);
    assert.match(publicKey, /^B[A-Za-z0-9_-]{86}$/, '65-byte uncompressed point, base64url');
    assert.equal(parseVapidPrivateKey(readFileSync(path, 'utf8')).publicKey, publicKey);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('refuses to overwrite a key unless --force', () => {
    const path = join(dir, 'existing.pem');
    writeFileSync(path, 'keep me');
    const refused = run([path]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /--force/);
    assert.equal(readFileSync(path, 'utf8'), 'keep me');
    assert.equal(run(['--force', path]).code, 0);
    assert.notEqual(readFileSync(path, 'utf8'), 'keep me');
  });

  it('prints the PEM when given no path, and --public reads an existing key', () => {
    const { code, stdout } = run([]);
    assert.equal(code, 0);
    const pem = stdout.slice(0, stdout.indexOf('-----END PRIVATE KEY-----') + 26);
    const path = join(dir, 'printed.pem');
    writeFileSync(path, pem);
    assert.equal(lastLine(run(['--public', path]).stdout), lastLine(stdout));
  });

  it('runs as a command', () => {
    const path = join(dir, 'cmd.pem');
    const stdout = execFileSync(process.execPath, ['src/cli/vapid-keys.ts', path], { encoding: 'utf8' });
    assert.equal(parseVapidPrivateKey(readFileSync(path, 'utf8')).publicKey, lastLine(stdout));
  });

  it('explains its usage on bad arguments', () => {
    assert.equal(run(['--bogus']).code, 2);
    assert.match(run(['--public']).stderr, /usage/);
  });
});
