/** Config loading (REFERENCE §3): Sygnal's keys, defaults, errors that name the key, frozen result. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText, validateConfig } from '../../src/config/load.ts';
import { resolveConfigSource } from '../../src/config/source.ts';
import { ConfigError } from '../../src/errors.ts';
import { providerTable } from '../../src/providers/registry.ts';
import { createFakeProviderModule } from '../fakes/fake-provider.ts';

const modules = providerTable([createFakeProviderModule().module]);
const load = (yaml: string) => validateConfig(parseConfigText(yaml, 'test'), modules);

function assertConfigError(yaml: string, path: string, message: RegExp) {
  assert.throws(
    () => load(yaml),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
      assert.equal(error.path, path);
      assert.match(error.message, message);
      assert.ok(!error.message.includes('\n'), 'one line');
      return true;
    },
  );
}

describe('config defaults', () => {
  it('fills every default from the schema and freezes the result', () => {
    const { config, warnings } = load('apps: {}');
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.http, { bind_addresses: ['127.0.0.1'], port: 5000, max_body_bytes: 524288 });
    assert.equal(config.dispatch.request_budget_ms, 10000);
    assert.equal(config.dedup.window_seconds, 600);
    assert.equal(config.dedup.rejected_window_seconds, 86400);
    assert.ok(
      Object.isFrozen(config) && Object.isFrozen(config.http) && Object.isFrozen(config.http.bind_addresses),
    );
  });

  it('fills app defaults, including inflight_request_limit 512', () => {
    const { config } = load("apps: { '*': { type: unifiedpush } }");
    assert.equal(config.apps['*']!.inflight_request_limit, 512);
  });

  it('the embedded default serves UnifiedPush for any app_id on 127.0.0.1:5000', async () => {
    const source = await resolveConfigSource([], {});
    assert.equal(source.origin, 'embedded default');
    const { config } = validateConfig(source.raw, modules);
    assert.deepEqual(config.http.bind_addresses, ['127.0.0.1']);
    assert.equal(config.http.port, 5000);
    assert.deepEqual(Object.keys(config.apps), ['*']);
    assert.equal(config.apps['*']!.type, 'unifiedpush');
  });
});

describe('config.sample.yaml', () => {
  it('is a valid config: no errors, no unknown keys', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(new URL('../../config.sample.yaml', import.meta.url), 'utf8');
    const { config, warnings } = validateConfig(parseConfigText(text, 'config.sample.yaml'), providerTable());
    assert.deepEqual(warnings, []);
    assert.deepEqual(Object.keys(config.apps).sort(), [
      'com.example.apns',
      'com.example.gcm',
      'com.example.unifiedpush',
      'com.example.webpush',
    ]);
  });
});

describe('a Sygnal config works unchanged', () => {
  it('accepts Sygnal keys, and warns about the ones Herald replaces', () => {
    const { config, warnings } = load(`
log:
  setup:
    version: 1
    root: { level: INFO }
  access:
    x_forwarded_for: true
http:
  bind_addresses: ['::1', '127.0.0.1']
  port: 5000
proxy: 'http://proxy.internal:8080'
metrics:
  prometheus: { enabled: true, address: '127.0.0.1', port: 8000 }
  opentracing: { enabled: true, implementation: jaeger }
  sentry: { enabled: false }
apps:
  im.vector.app:
    type: unifiedpush
    inflight_request_limit: 100
`);
    assert.deepEqual(config.http.bind_addresses, ['::1', '127.0.0.1']);
    assert.equal(config.proxy, 'http://proxy.internal:8080');
    assert.equal(config.log.access.x_forwarded_for, true);
    assert.ok(warnings.some((w) => w.includes('log.setup')));
    assert.ok(warnings.some((w) => w.includes('metrics.opentracing')));
    assert.ok(
      !warnings.some((w) => w.includes('metrics.sentry')),
      'a disabled section is not worth a warning',
    );
  });

  it('warns about unknown keys, naming them, instead of failing', () => {
    const { warnings } = load('http: { port: 5000, colour: blue }\napps: { a: { type: fake, flavour: x } }');
    assert.ok(warnings.includes('config: http.colour: unknown key, ignored.'), warnings.join('\n'));
    assert.ok(warnings.includes('config: apps.a.flavour: unknown key, ignored.'), warnings.join('\n'));
  });
});

describe('config errors name the key path and what to set', () => {
  it('a port that is not a number', () => assertConfigError('http: { port: abc }', 'http.port', /integer/));
  it('a port out of range', () => assertConfigError('http: { port: 70000 }', 'http.port', /<= 65535/));
  it('an app without a type', () =>
    assertConfigError(
      "apps: { 'com.example.app': { topic: x } }",
      'apps["com.example.app"].type',
      /required/,
    ));
  it('an unknown app type', () =>
    assertConfigError(
      'apps: { x: { type: carrier-pigeon } }',
      'apps.x.type',
      /unknown type "carrier-pigeon"; set one of/,
    ));
  it('a bad log level', () => assertConfigError('log: { level: loud }', 'log.level', /one of "fatal"/));
  it('allowed_endpoints that is not a list', () =>
    assertConfigError(
      'apps: { x: { type: unifiedpush, allowed_endpoints: "*" } }',
      'apps.x.allowed_endpoints',
      /array/,
    ));
  for (const bad of ['https://', 'https://exa mple.com', 'push.example', 'ftp://push.example']) {
    it(`an endpoint ${JSON.stringify(bad)} that is not an http(s) URL`, () =>
      assertConfigError(
        `apps: { x: { type: unifiedpush, endpoint: "${bad}" } }`,
        'apps.x.endpoint',
        /http:\/\/ or https:\/\/ URL/,
      ));
  }
  it('a proxy that is not a URL', () =>
    assertConfigError('proxy: "http://"', 'proxy', /http:\/\/ or https:\/\/ URL/));
  it('YAML that does not parse', () => {
    assert.throws(() => parseConfigText('http: [unclosed', 'herald.yaml'), /herald\.yaml: not valid YAML/);
  });
  it('a config that is not a mapping', () =>
    assertConfigError('- a\n- b', '(top level)', /must be a YAML mapping/));
});
