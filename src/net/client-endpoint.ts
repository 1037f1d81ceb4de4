/**
 * Sending to an endpoint a client chose (Web Push, UnifiedPush): the endpoint policy, the guarded
 * connection pools, and what both providers do the same way around them. A URL that cannot be
 * parsed can never work, so its pusher is rejected; a URL the operator's policy refuses might be
 * allowed later, so the push is dropped, counted and logged, never rejected (an operator's policy
 * must not delete users' pushers). Network failures are temporary.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.ts';
import type { DeliveryOutcome, DispatchContext } from '../providers/provider.ts';
import { TemporaryDeliveryError } from '../providers/provider.ts';
import { EndpointPolicy } from './endpoint-policy.ts';
import {
  isBlockedAddressError,
  OutboundHttp,
  type OutboundOptions,
  type OutboundResponse,
} from './outbound-http.ts';

export interface EndpointTarget {
  url: URL;
  /** Matched `allowed_endpoints`: contacted as written, private addresses included. */
  trusted: boolean;
}

/**
 * Sygnal sends Web Push through its `proxy`; Herald cannot, because the proxy would resolve the
 * client's endpoint itself and the address check would be skipped. Say so at start.
 */
export function warnProxyNotUsed(deps: { proxy: string | undefined; logger: Logger }, type: string): void {
  if (deps.proxy === undefined) return;
  deps.logger.warn(
    `proxy is not used for ${type}: endpoints are contacted directly, because the endpoint policy ` +
      'must check the addresses Herald itself connects to',
  );
}

export type Checked<T> = { ok: true; value: T } | { ok: false; outcome: DeliveryOutcome };

export class ClientEndpointClient {
  readonly #labels: { app: string; provider: string };
  readonly #policy: EndpointPolicy;
  readonly #http: OutboundHttp;
  readonly #metrics: Metrics;

  constructor(
    labels: { app: string; provider: string },
    options: OutboundOptions & { allowedEndpoints: readonly string[] | undefined },
    metrics: Metrics,
  ) {
    this.#labels = labels;
    this.#policy = new EndpointPolicy(options.allowedEndpoints);
    this.#http = new OutboundHttp(options);
    this.#metrics = metrics;
  }

  /** The endpoint policy's verdict; `invalidReason` is the rejection reason for an unparseable URL. */
  check(endpoint: string, ctx: DispatchContext, invalidReason: string): Checked<EndpointTarget> {
    const verdict = this.#policy.evaluate(endpoint);
    if (verdict.allowed) return { ok: true, value: { url: verdict.url, trusted: verdict.trusted } };
    if (verdict.reason === 'invalid_url')
      return { ok: false, outcome: { kind: 'rejected', reason: invalidReason } };
    return { ok: false, outcome: this.#blocked(verdict.reason, ctx) };
  }

  /** POSTs to an allowed endpoint, recording time and answer; throws TemporaryDeliveryError on network failure. */
  async post(
    target: EndpointTarget,
    headers: Record<string, string>,
    body: string | Uint8Array,
    ctx: DispatchContext,
  ): Promise<Checked<OutboundResponse>> {
    const started = performance.now();
    try {
      const response = await this.#http.post(target.url, {
        trusted: target.trusted,
        headers,
        body,
        signal: ctx.signal,
      });
      this.#metrics.providerResponses.inc({ ...this.#labels, status: String(response.status), reason: '' });
      return { ok: true, value: response };
    } catch (error) {
      // The name resolved only to non-public addresses: checked on the address we would connect to.
      if (isBlockedAddressError(error)) return { ok: false, outcome: this.#blocked('private_address', ctx) };
      this.#metrics.providerResponses.inc({ ...this.#labels, status: 'network', reason: 'network' });
      throw new TemporaryDeliveryError(`endpoint unreachable: ${(error as Error).message}`, { cause: error });
    } finally {
      this.#metrics.providerRequestDuration.observe(this.#labels, (performance.now() - started) / 1000);
    }
  }

  #blocked(reason: string, ctx: DispatchContext): DeliveryOutcome {
    this.#metrics.endpointsBlocked.inc({ ...this.#labels, reason });
    ctx.logger.warn(
      { reason },
      'endpoint refused by the endpoint policy; push dropped (see allowed_endpoints)',
    );
    return { kind: 'dropped', reason: `endpoint policy: ${reason}` };
  }

  close(): Promise<void> {
    return this.#http.close();
  }
}
