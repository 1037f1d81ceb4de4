/**
 * Which client-chosen endpoints (Web Push, UnifiedPush) the gateway may contact.
 *
 * - With `allowed_endpoints` (Sygnal's key): globs matched case-insensitively and whole against the
 *   endpoint's `host[:port]`. A match is trusted as the operator wrote it, private address or plain
 *   http included (a LAN ntfy, a test server); anything else is blocked.
 * - Without it: https only, and only public addresses. The address check happens on the address
 *   actually connected to (createGuardedLookup in outbound-http.ts), so a name that resolves to a private address, or
 *   re-resolves to one later (DNS rebinding), is still refused.
 */
import { isIP } from 'node:net';
import { globToRegExp } from '../dispatch/app-id-match.ts';
import { isPublicAddress } from './address-policy.ts';

export type EndpointVerdict =
  | { allowed: true; url: URL; trusted: boolean }
  | { allowed: false; reason: 'invalid_url' | 'scheme' | 'not_allowed' | 'private_address' };

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

export class EndpointPolicy {
  readonly #allowed: RegExp[] | null;

  constructor(allowedEndpoints: readonly string[] | undefined) {
    // An empty list means no list, as in Sygnal (`if self.allowed_endpoints:`), not "allow nothing".
    this.#allowed =
      allowedEndpoints && allowedEndpoints.length > 0
        ? allowedEndpoints.map((glob) => new RegExp(globToRegExp(glob.toLowerCase()).source, 'u'))
        : null;
  }

  evaluate(endpoint: string): EndpointVerdict {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return { allowed: false, reason: 'invalid_url' };
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return { allowed: false, reason: 'scheme' };
    if (url.username !== '' || url.password !== '') return { allowed: false, reason: 'invalid_url' };

    if (this.#allowed !== null) {
      const host = url.host.toLowerCase();
      const withPort = `${url.hostname.toLowerCase()}:${url.port || DEFAULT_PORTS[url.protocol]}`;
      const match = this.#allowed.some((pattern) => pattern.test(host) || pattern.test(withPort));
      return match ? { allowed: true, url, trusted: true } : { allowed: false, reason: 'not_allowed' };
    }
    if (url.protocol !== 'https:') return { allowed: false, reason: 'scheme' };
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) !== 0 && !isPublicAddress(literal))
      return { allowed: false, reason: 'private_address' };
    return { allowed: true, url, trusted: false };
  }
}

/** The config key both client-endpoint providers (Web Push, UnifiedPush) take, as Sygnal names it. */
export const ALLOWED_ENDPOINTS_PROPERTY = {
  type: 'array',
  items: { type: 'string', minLength: 1 },
  description:
    'Globs matched, case-insensitively and whole, against the endpoint host[:port]. When set, only ' +
    'matching endpoints are contacted, trusted as written (private addresses and plain http included). ' +
    'When absent, only https endpoints on public addresses are contacted.',
};
