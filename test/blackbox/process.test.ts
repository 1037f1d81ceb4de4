/**
 * The gateway as a process, as an operator runs it: `--config` and SYGNAL_CONF, one-line config
 * errors with a non-zero exit, /health, and SIGTERM draining in-flight requests before exit 0.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FakeEndpoint, startFakeEndpoint } from '../fakes/fake-unifiedpush-endpoint.ts';
import { device, exampleNotification } from '../helpers/fixtures.ts';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'herald-process-'));

/** Every child started, killed at the end so a failing test cannot leave a gateway running. */
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

function writeConfig(name: string, yaml: string): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}

interface Running {
  child: ChildProcess;
  port: number;
  metricsPort: number | undefined;
  exit: Promise<{ code: number | null; stderr: string }>;
}

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; exit: Running['exit']; stdout: () => string } {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stderr })),
  );
  return { child, exit, stdout: () => stdout };
}

/** Starts the gateway and waits for its "listening" log line, which carries the port. */
async function start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const { child, exit, stdout } = run(args, env);
  while (true) {
    const line = stdout()
      .split('\n')
      .find((l) => l.includes('herald is listening'));
    if (line) {
      const fields = JSON.parse(line);
      return { child, exit, port: fields.port, metricsPort: fields.metrics_port };
    }
    const exited = await Promise.race([exit, new Promise((resolve) => setTimeout(() => resolve(null), 20))]);
    if (exited) throw new Error(`gateway exited early: ${JSON.stringify(exited)}`);
  }
}

describe('config errors at start', () => {
  it('exit 2 with one line naming the key', async () => {
    const path = writeConfig('bad.yaml', 'http:\n  port: nope\n');
    const { exit } = run(['--config', path]);
    const { code, stderr } = await exit;
    assert.equal(code, 2);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, /^herald: config: http\.port: must be of type integer/);
  });

  it('exit 2 for a config file that does not exist', async () => {
    const { code, stderr } = await run(['--config', join(dir, 'missing.yaml')]).exit;
    assert.equal(code, 2);
    assert.match(stderr, /missing\.yaml: cannot read the config file \(ENOENT\)/);
  });

  it('exit 2 with one line when the port is taken', async () => {
    const { createServer } = await import('node:http');
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const { port } = squatter.address() as { port: number };
    const path = writeConfig('taken.yaml', `http: { bind_addresses: ['127.0.0.1'], port: ${port} }\n`);
    const { code, stderr } = await run(['--config', path]).exit;
    squatter.close();
    assert.equal(code, 2);
    assert.match(stderr, /^herald: cannot listen \(EADDRINUSE\); check http\.bind_addresses, http\.port/);
  });

  it('exit 2 for an unknown command-line option', async () => {
    const { code, stderr } = await run(['--colour']).exit;
    assert.equal(code, 2);
    assert.match(stderr, /usage: herald \[--config FILE\]/);
  });
});

describe('a running gateway', () => {
  let endpoint: FakeEndpoint;
  before(async () => {
    endpoint = await startFakeEndpoint();
  });
  after(() => endpoint.close());

  const yaml = `
http: { bind_addresses: ['127.0.0.1'], port: 0 }
log: { level: info }
apps:
  '*':
    type: unifiedpush
    allowed_endpoints: ['127.0.0.1:*']
dispatch: { shutdown_grace_ms: 5000 }
`;

  it('reads SYGNAL_CONF, answers /health, forwards a push, and exits 0 on SIGTERM', async () => {
    const gateway = await start([], { SYGNAL_CONF: writeConfig('env.yaml', yaml) });
    const health = await fetch(`http://127.0.0.1:${gateway.port}/health`);
    assert.equal(health.status, 200);
    const res = await fetch(`http://127.0.0.1:${gateway.port}/_matrix/push/v1/notify`, {
      method: 'POST',
      body: JSON.stringify(exampleNotification([device('im.app', `${endpoint.origin}/ok/env`)])),
    });
    assert.equal(res.status, 200);
    assert.ok(endpoint.received.some((r) => r.path === '/ok/env'));
    gateway.child.kill('SIGTERM');
    assert.equal((await gateway.exit).code, 0);
  });

  it('listens on every bind address (Sygnal: bind_addresses)', async () => {
    const both = yaml.replace("bind_addresses: ['127.0.0.1']", "bind_addresses: ['127.0.0.1', '::1']");
    const gateway = await start(['--config', writeConfig('both.yaml', both)]);
    assert.equal((await fetch(`http://127.0.0.1:${gateway.port}/health`)).status, 200);
    assert.equal((await fetch(`http://[::1]:${gateway.port}/health`)).status, 200);
    gateway.child.kill('SIGTERM');
    assert.equal((await gateway.exit).code, 0);
  });

  it('serves Prometheus metrics on their own listener when enabled', async () => {
    const withMetrics = `${yaml}\nmetrics: { prometheus: { enabled: true, address: '127.0.0.1', port: 0 } }\n`;
    const gateway = await start(['--config', writeConfig('metrics.yaml', withMetrics)]);
    await fetch(`http://127.0.0.1:${gateway.port}/_matrix/push/v1/notify`, {
      method: 'POST',
      body: JSON.stringify(exampleNotification([device('im.app', `${endpoint.origin}/ok/metrics`)])),
    });
    assert.ok(gateway.metricsPort, 'the metrics port is logged');
    const text = await (await fetch(`http://127.0.0.1:${gateway.metricsPort}/metrics`)).text();
    assert.match(text, /herald_notify_requests_total\{status="200"\} 1/);
    assert.match(text, /herald_deliveries_total\{app="\*",provider="unifiedpush",outcome="delivered"\} 1/);
    assert.equal(
      (await fetch(`http://127.0.0.1:${gateway.port}/metrics`)).status,
      404,
      'not on the public port',
    );
    gateway.child.kill('SIGTERM');
    assert.equal((await gateway.exit).code, 0);
  });

  const drainCases = [
    {
      name: 'on SIGTERM lets an in-flight request finish, refuses new ones, then exits 0',
      host: '127.0.0.1',
    },
    { name: 'on SIGTERM lets an in-flight request on another bind address finish too', host: '[::1]' },
  ];
  for (const { name, host } of drainCases) {
    it(name, async () => {
      const slow = await startSlowEndpoint(400);
      const both = yaml.replace("bind_addresses: ['127.0.0.1']", "bind_addresses: ['127.0.0.1', '::1']");
      const gateway = await start(['--config', writeConfig(`drain-${host}.yaml`, both)]);
      const inflight = fetch(`http://${host}:${gateway.port}/_matrix/push/v1/notify`, {
        method: 'POST',
        body: JSON.stringify(exampleNotification([device('im.app', `${slow.url}/drain`)])),
      });
      await slow.started;
      gateway.child.kill('SIGTERM');
      const res = await inflight;
      assert.equal(res.status, 200, 'the in-flight request completed');
      assert.equal(slow.completed(), 1);
      assert.equal((await gateway.exit).code, 0);
      await assert.rejects(fetch(`http://127.0.0.1:${gateway.port}/health`), 'no longer accepting');
      await slow.close();
    });
  }
});

/** An endpoint that answers 200 after `delayMs`; `started` resolves when the first request arrives. */
async function startSlowEndpoint(delayMs: number) {
  const { createServer } = await import('node:http');
  let completed = 0;
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const server = createServer((request, response) => {
    request.resume();
    markStarted();
    setTimeout(() => {
      completed++;
      response.writeHead(200).end('{}');
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    started,
    completed: () => completed,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
