/**
 * Outbound HTTP for client-chosen endpoints (UnifiedPush, Web Push): keep-alive pools per origin
 * (undici), connect and response timeouts, and the address guard. Two pools: one whose DNS lookup
 * refuses non-public addresses (the default), and one for endpoints the operator trusted by name
 * in `allowed_endpoints`.
 */
import { type LookupAddress, type LookupAllOptions, lookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, type Dispatcher, request } from 'undici';
import { isPublicAddress } from './address-policy.ts';

/** The endpoint's name resolved only to addresses the gateway must not contact. */
export class BlockedAddressError extends Error {
  readonly code = 'HERALD_BLOCKED_ADDRESS';
  constructor(hostname: string) {
    super(`${hostname} resolves only to non-public addresses`);
    this.name = 'BlockedAddressError';
  }
}

type Resolver = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A dns.lookup for net.connect that keeps only public addresses: the check is made on the very
 * addresses the socket then connects to, so a name cannot pass the check and connect elsewhere.
 */
export function createGuardedLookup(resolve: Resolver = lookup as unknown as Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const usable = addresses.filter((a) => isPublicAddress(a.address));
      if (usable.length === 0)
        return callback(new BlockedAddressError(hostname) as NodeJS.ErrnoException, '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
      callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}

export function isBlockedAddressError(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof BlockedAddressError) return true;
  }
  return false;
}

export interface OutboundOptions {
  connectTimeoutMs: number;
  /** Time to the response headers, and between body chunks. */
  responseTimeoutMs: number;
  /** Connections per origin. */
  connections: number;
  /** Offer HTTP/2 through ALPN (used when the push service supports it). */
  allowH2: boolean;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

export class OutboundHttp {
  readonly #guarded: Agent;
  readonly #trusted: Agent;

  constructor(options: OutboundOptions) {
    const common = {
      connections: options.connections,
      headersTimeout: options.responseTimeoutMs,
      bodyTimeout: options.responseTimeoutMs,
      keepAliveTimeout: 30_000,
      allowH2: options.allowH2,
    };
    this.#guarded = new Agent({
      ...common,
      connect: { timeout: options.connectTimeoutMs, lookup: createGuardedLookup() },
    });
    this.#trusted = new Agent({ ...common, connect: { timeout: options.connectTimeoutMs } });
  }

  async post(
    url: URL,
    init: {
      trusted: boolean;
      headers: Record<string, string>;
      body: string | Uint8Array;
      signal: AbortSignal;
    },
  ): Promise<OutboundResponse> {
    const dispatcher: Dispatcher = init.trusted ? this.#trusted : this.#guarded;
    const response = await request(url, {
      method: 'POST',
      headers: init.headers,
      body: init.body,
      signal: init.signal,
      dispatcher,
    });
    // Push services answer with a few bytes; do not let a hostile endpoint make us buffer more.
    let body = '';
    let received = 0;
    for await (const chunk of response.body) {
      received += (chunk as Buffer).length;
      if (received > MAX_RESPONSE_BYTES) {
        response.body.destroy();
        break;
      }
      body += (chunk as Buffer).toString('utf8');
    }
    return { status: response.statusCode, headers: response.headers, body };
  }

  async close(): Promise<void> {
    await Promise.all([this.#guarded.close(), this.#trusted.close()]);
  }
}
