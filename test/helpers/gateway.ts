/**
 * Starts the real gateway (buildApp + listen on 127.0.0.1:0) from a YAML or object config, the way
 * main.ts does, and talks HTTP to it. Logs are captured so tests can assert on them.
 */
import { Writable } from 'node:stream';
import { type AppDeps, buildApp, type HeraldApp } from '../../src/app.ts';
import { parseConfigText, validateConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log/logger.ts';
import { providerTable } from '../../src/providers/registry.ts';

export interface TestGateway {
  app: HeraldApp;
  baseUrl: string;
  /** Every log line, parsed. */
  logs: Record<string, unknown>[];
  notify(body: unknown): Promise<GatewayResponse>;
  request(path: string, init?: RequestInit): Promise<GatewayResponse>;
  close(): Promise<void>;
}

export interface GatewayResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function startGateway(
  config: string | Record<string, unknown>,
  deps: AppDeps = {},
): Promise<TestGateway> {
  const raw = typeof config === 'string' ? parseConfigText(config, 'test') : config;
  const { config: validated } = validateConfig(raw, providerTable(deps.extraProviders));
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = deps.logger ?? createLogger({ level: 'debug' }, sink);
  const app = await buildApp(validated, { ...deps, logger });
  await app.http.listen({ host: '127.0.0.1', port: 0 });
  const address = app.http.server.address();
  if (address === null || typeof address === 'string') throw new Error('gateway did not listen on TCP');
  const baseUrl = `http://127.0.0.1:${address.port}`;

  const request = async (path: string, init: RequestInit = {}): Promise<GatewayResponse> => {
    const response = await fetch(baseUrl + path, init);
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  };
  return {
    app,
    baseUrl,
    logs,
    request,
    notify: (body) =>
      request('/_matrix/push/v1/notify', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    close: () => app.close(),
  };
}
