/**
 * `npm run vapid-keys -- [path]`: generates a VAPID key pair (RFC 8292) for `type: webpush`.
 *
 *   vapid-keys <path>            write the private key (PKCS#8 PEM, mode 0600) to <path>; refuses
 *                                to overwrite unless --force
 *   vapid-keys                   print the private key PEM to stdout instead
 *   vapid-keys --public <path>   print the public key of an existing key file (e.g. Sygnal's)
 *
 * Either way it prints the public key as web clients need it: the uncompressed P-256 point in
 * base64url, the `applicationServerKey` of PushManager.subscribe().
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateVapidKeys, parseVapidPrivateKey } from '../providers/webpush/vapid-key.ts';

const USAGE = 'usage: vapid-keys [--force] [path] | vapid-keys --public <path>';

/** Runs the command; returns the exit code. `out`/`err` are stdout/stderr writers. */
export function main(
  args: readonly string[],
  out: (text: string) => void,
  err: (text: string) => void,
): number {
  const force = args.includes('--force');
  const show = args.includes('--public');
  const paths = args.filter((a) => !a.startsWith('--'));
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--force' && a !== '--public');
  if (unknown.length > 0 || paths.length > 1 || (show && paths.length !== 1) || args.includes('--help')) {
    err(`${USAGE}\n`);
    return args.includes('--help') ? 0 : 2;
  }
  const path = paths[0];

  if (show) {
    try {
      out(`${publicKeyText(parseVapidPrivateKey(readFileSync(path!, 'utf8')).publicKey)}\n`);
      return 0;
    } catch (error) {
      err(`vapid-keys: ${path}: ${(error as Error).message}\n`);
      return 1;
    }
  }

  const { pem, publicKey } = generateVapidKeys();
  if (path === undefined) {
    out(pem);
  } else {
    try {
      writeFileSync(path, pem, { mode: 0o600, flag: force ? 'w' : 'wx' });
    } catch (error) {
      const exists = (error as NodeJS.ErrnoException).code === 'EEXIST';
      err(
        `vapid-keys: ${exists ? `${path} exists; pass --force to replace it` : (error as Error).message}\n`,
      );
      return 1;
    }
    out(`Wrote the VAPID private key to ${path}; keep it secret and set vapid_private_key: ${path}\n`);
  }
  out(`${publicKeyText(publicKey)}\n`);
  return 0;
}

function publicKeyText(publicKey: string): string {
  return `VAPID public key (the applicationServerKey web clients subscribe with):\n${publicKey}`;
}

if (import.meta.main) {
  // `npm run` starts us in the package directory; INIT_CWD is where the operator typed the command.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  process.exitCode = main(
    process.argv.slice(2).map((arg) => (arg.startsWith('--') ? arg : resolve(cwd, arg))),
    (text) => process.stdout.write(text),
    (text) => process.stderr.write(text),
  );
}
