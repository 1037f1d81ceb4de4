/**
 * Seeded fuzz of POST /_matrix/push/v1/notify against one gateway with all four real providers
 * (APNs, FCM v1, Web Push, UnifiedPush) pointed at the local fakes. REFERENCE §1: no input shape
 * gets a 500; bad input gets a 400 with a Matrix errcode; odd-but-valid input gets 200 whose
 * `rejected` holds only pushkeys from the request. Bodies are mutations of the spec example plus raw
 * text; the seed is printed, and FUZZ_SEED / FUZZ_CASES reproduce or widen a run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FakeApns, startFakeApns } from '../fakes/fake-apns.ts';
import { KEY_ID, pushkeyFor, TEAM_ID, TOPIC, writeSigningKey } from '../fakes/fake-apns-setup.ts';
import { type FakeFcm, startFakeFcm } from '../fakes/fake-fcm.ts';
import {
  type FakeGoogleOAuth,
  startFakeGoogleOAuth,
  writeServiceAccount,
} from '../fakes/fake-google-oauth.ts';
import {
  browserPusherDevice,
  type FakePushService,
  startFakePushService,
  writeVapidKeyFile,
} from '../fakes/fake-push-service.ts';
import { type FakeEndpoint, startFakeEndpoint } from '../fakes/fake-unifiedpush-endpoint.ts';
import { device, exampleNotification } from '../helpers/fixtures.ts';
import { type GatewayResponse, startGateway, type TestGateway } from '../helpers/gateway.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 0x6e07_1f2a) >>> 0;
const CASES = Number(process.env.FUZZ_CASES ?? 500);
const CONCURRENCY = 8;
const NOTIFY = '/_matrix/push/v1/notify';

const APNS_APP = 'com.example.herald.ios';
const FCM_APP = 'com.example.herald.android';
const WEB_APP = 'io.element.web';
const UP_APP = 'org.unifiedpush.fuzz';
/** Matches both globs below: rejected as ambiguous (REFERENCE §2). */
const AMBIGUOUS_APP = 'net.ambiguous.app';

/** mulberry32: tiny, fast, good enough to pick shapes, and reproducible from one 32-bit seed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface World {
  apns: FakeApns;
  oauth: FakeGoogleOAuth;
  fcm: FakeFcm;
  webpush: FakePushService;
  up: FakeEndpoint;
}

/** A fixture device as a plain record the fuzz may scribble on. */
const dev = (appId: string, pushkey: string): Record<string, unknown> => ({ ...device(appId, pushkey) });

/** The generators, all drawing from one PRNG so a seed fixes every body. */
class Gen {
  readonly #random: () => number;
  readonly #world: World;
  constructor(seed: number, world: World) {
    this.#random = mulberry32(seed);
    this.#world = world;
  }

  float(): number {
    return this.#random();
  }
  int(max: number): number {
    return Math.floor(this.#random() * max);
  }
  chance(p: number): boolean {
    return this.#random() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  number(): number {
    return this.pick([
      0,
      -0,
      1,
      -1,
      2,
      1.5,
      -3.25,
      2 ** 31,
      2 ** 32 + 1,
      2 ** 53,
      2 ** 53 + 2,
      -(2 ** 53),
      1e21,
      1e300,
      -1e300,
      5e-324,
      Number.MAX_VALUE,
      1_700_000_000_000,
      this.int(1_000_000),
    ]);
  }

  /** Strings a parser or a payload builder might trip on. */
  string(): string {
    const pieces = [
      '',
      ' ',
      'x',
      'Major Tom',
      '\u0000',
      '\u0000\u0001\u001f\u007f',
      '\\',
      '\\u0000',
      '"',
      "'",
      '\n\r\t\b\f',
      '\ud800', // lone high surrogate: JSON.stringify writes it as the escape \ud800
      '\udfff', // lone low surrogate
      '\udc00\ud800', // reversed pair
      '😀',
      '👩‍👩‍👧‍👦',
      'e\u0301\u0301\u0301',
      '\u202e\u2066RTL',
      '\u200b\ufeff\u2028\u2029',
      '日本語のテキスト',
      'ﷺ',
      '%s%n%x',
      '$' + '{x}{{x}}',
      '<script>alert(1)</script>',
      '../../etc/passwd',
      'https://127.0.0.1:1/x',
      'null',
      'true',
      '0',
      '-1',
      '$event:example.org',
      '!room',
      'high',
      'low',
      '__proto__',
      'constructor',
    ];
    const size = this.int(4);
    let text = '';
    for (let i = 0; i <= size; i++) text += this.pick(pieces);
    if (this.chance(0.08))
      text += this.pick(['a', '😀', '\\', '"', 'é', '\ud800']).repeat(this.pick([300, 5000, 40_000]));
    return text;
  }

  /** Any JSON value, nested up to `depth` more levels. */
  value(depth = 3): unknown {
    const kinds = depth > 0 ? 8 : 5;
    switch (this.int(kinds)) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.number();
      case 3:
      case 4:
        return this.string();
      case 5:
        return this.chance(0.2) ? [] : Array.from({ length: this.int(4) + 1 }, () => this.value(depth - 1));
      default:
        return this.object(depth - 1);
    }
  }

  key(): string {
    return this.chance(0.6)
      ? this.pick([
          'content',
          'body',
          'aps',
          'alert',
          'data',
          'notification',
          'android',
          'webpush',
          'apns',
          'priority',
          'event_id',
          'room_id',
          'unread',
          'counts',
          'default_payload',
          'format',
          'sound',
          'highlight',
          'badge',
          'mutable-content',
          'from',
          'message_type',
          'collapse_key',
          'gcm',
          'google.x',
          'token',
          'ttl',
          '__proto__',
          'constructor',
          'toString',
          'hasOwnProperty',
          '',
        ])
      : this.string();
  }

  /** An object; `__proto__` becomes an own key, as JSON.parse makes it on the gateway side. */
  object(depth = 2): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    if (this.chance(0.15)) return object;
    const size = this.int(5) + 1;
    for (let i = 0; i < size; i++) {
      Object.defineProperty(object, this.key(), {
        value: this.value(depth),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return object;
  }

  /** `default_payload` / `data` shapes: objects with provider-looking keys, or not objects at all. */
  payloadish(): unknown {
    switch (this.int(8)) {
      case 0:
        return this.value(1);
      case 1:
        return { content: this.value(2) };
      case 2:
        return { aps: this.chance(0.5) ? this.object(2) : this.value(1), ...this.object(1) };
      case 3:
        return { notification: this.value(2), data: this.value(2), android: this.value(2) };
      case 4:
        return { data: this.object(2), priority: this.value(0), collapse_key: this.value(0) };
      default:
        return this.object(2);
    }
  }

  tweaks(): unknown {
    switch (this.int(10)) {
      case 0:
        return this.value(1);
      case 1: // palpo's action-list form, sometimes malformed
        return Array.from({ length: this.int(3) + 1 }, () =>
          this.chance(0.9)
            ? { set_tweak: this.pick(['sound', 'highlight', this.string()]), value: this.value(1) }
            : this.value(1),
        );
      case 2:
        return { sound: this.value(1), highlight: this.value(0) };
      default:
        return this.chance(0.5) ? { sound: 'default', highlight: this.chance(0.5) } : this.object(1);
    }
  }

  data(): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    if (this.chance(0.4)) data.format = this.pick(['event_id_only', 'EVENT_ID_ONLY', '', this.value(0)]);
    if (this.chance(0.6)) data.default_payload = this.payloadish();
    if (this.chance(0.3)) Object.assign(data, this.object(1));
    return data;
  }

  pushkey(): string {
    return this.pick([
      () => pushkeyFor(`fuzz-${this.int(1e9)}`),
      () => this.string() || 'k',
      () => 'A'.repeat(this.pick([1, 64, 1000, 20_000])),
      () => Buffer.from(this.string()).toString('base64'),
      () =>
        `${this.pick(['unregistered', 'badtoken', 'notvalid', 'mismatch', 'flaky', 'quota', ''])}-${this.int(1e9)}`,
    ])();
  }

  /** One device routed to a provider (or to none), with random data and tweaks. */
  device(): Record<string, unknown> {
    const kind = this.pick([
      'apns',
      'fcm',
      'webpush',
      'webpush',
      'up',
      'up',
      'unknown',
      'ambiguous',
    ] as const);
    let base: Record<string, unknown>;
    switch (kind) {
      case 'apns':
        base = dev(APNS_APP, this.pushkey()) as unknown as Record<string, unknown>;
        break;
      case 'fcm':
        base = dev(FCM_APP, this.pushkey()) as unknown as Record<string, unknown>;
        break;
      case 'webpush': {
        const subscription = this.#world.webpush.subscribe(this.chance(0.5) ? '127.0.0.1' : 'localhost');
        base = browserPusherDevice(WEB_APP, subscription) as Record<string, unknown>;
        if (this.chance(0.3)) {
          (base.data as Record<string, unknown>)[this.pick(['endpoint', 'auth'])] = this.value(1);
        }
        if (this.chance(0.2)) base.pushkey = this.pushkey();
        break;
      }
      case 'up': {
        // Hangs cost a whole request budget, so they stay rare.
        const path = this.chance(0.02)
          ? '/hang'
          : this.pick(['/ok', '/created', '/gone', '/missing', '/busy', '/fail', '/toolarge']);
        const url = `${this.#world.up.origin}${path}/${this.int(1e6)}?up=1`;
        base = dev(UP_APP, this.chance(0.85) ? url : this.string() || 'x');
        break;
      }
      case 'unknown':
        base = dev(this.chance(0.5) ? 'com.unknown.app' : this.string() || 'x', this.pushkey());
        break;
      case 'ambiguous':
        base = dev(AMBIGUOUS_APP, this.pushkey());
        break;
    }
    if (kind !== 'webpush' || this.chance(0.4)) {
      const extra = this.data();
      base.data = kind === 'webpush' ? { ...(base.data as object), ...extra } : extra;
    }
    if (this.chance(0.4)) base.tweaks = this.tweaks();
    if (this.chance(0.03)) base.data = this.value(1);
    if (this.chance(0.2)) base.pushkey_ts = this.chance(0.9) ? Math.abs(this.number()) : this.value(1);
    if (this.chance(0.05)) delete base.pushkey_ts;
    if (this.chance(0.02)) base.app_id = this.value(1);
    if (this.chance(0.02)) base.pushkey = this.value(1);
    if (this.chance(0.1)) Object.assign(base, this.object(1));
    return base;
  }

  counts(): unknown {
    if (this.chance(0.2)) return this.value(1);
    const counts: Record<string, unknown> = {};
    if (this.chance(0.8)) counts.unread = this.chance(0.7) ? this.number() : this.value(0);
    if (this.chance(0.5)) counts.missed_calls = this.chance(0.7) ? this.number() : this.value(0);
    return counts;
  }

  /** The spec example with devices of every provider and some fields given other types or values. */
  notifyBody(caseNumber: number): unknown {
    const devices = Array.from({ length: this.int(4) + 1 }, () => this.device());
    const body = exampleNotification(devices as never, {
      // Unique event ids keep dedup from hiding the providers from most cases.
      event_id: `$fuzz-${SEED}-${caseNumber}`,
    }) as { notification: Record<string, unknown> } & Record<string, unknown>;
    const notification = body.notification;
    const fields = [
      'id',
      'event_id',
      'room_id',
      'type',
      'sender',
      'sender_display_name',
      'room_name',
      'room_alias',
      'prio',
      'content',
      'counts',
      'user_is_target',
      'membership',
      'devices',
    ];
    const mutations = this.int(4);
    for (let i = 0; i < mutations; i++) {
      const field = this.pick(fields);
      const roll = this.int(10);
      if (roll === 0) delete notification[field];
      else if (roll === 1) notification[field] = this.value(2);
      else if (field === 'counts') notification[field] = this.counts();
      else if (field === 'content') notification[field] = this.payloadish();
      else if (field === 'prio') notification[field] = this.pick(['high', 'low', 'HIGH', '', this.value(0)]);
      else if (field === 'user_is_target') notification[field] = this.pick([true, false, this.value(0)]);
      else if (field === 'devices') notification[field] = this.chance(0.5) ? [] : [...devices, this.value(1)];
      else notification[field] = this.chance(0.7) ? this.string() : this.value(1);
    }
    if (this.chance(0.1)) Object.assign(notification, this.object(1));
    if (this.chance(0.05)) Object.assign(body, this.object(1));
    if (this.chance(0.03))
      return this.pick([[body], { notification: [notification] }, { notification: null }]);
    return body;
  }

  /** Bodies that are not a JSON rendering of an object: broken JSON, bad UTF-8, deep nesting. */
  rawBody(): string | Uint8Array {
    const valid = JSON.stringify(exampleNotification([device(FCM_APP, 'raw')]));
    return this.pick<() => string | Uint8Array>([
      () => '',
      () => ' \n\t',
      () => 'null',
      () => 'true',
      () => '12',
      () => '"notification"',
      () => '[]',
      () => '{',
      () => '{"notification":',
      () => valid.slice(0, this.int(valid.length)),
      () => `${valid}${this.pick([',', '}', ' x', '\u0000', '{}'])}`,
      () => `\ufeff${valid}`,
      () => valid.replace('2', this.pick(['NaN', 'Infinity', '-Infinity', '0x10', '01', '1e999', '-'])),
      () =>
        valid.replace(
          '"Major Tom"',
          this.pick(['"\\ud800"', '"\\udfff\\ud800"', '"\\u12"', "'x'", '"\u0001"', '"\\x41"']),
        ),
      () =>
        `{"notification":{"devices":[{"app_id":"${FCM_APP}","pushkey":"k"}],"counts":{"unread":1,"unread":"x"}}}`,
      () =>
        `{"__proto__":{"devices":[]},"notification":{"__proto__":null,"devices":[{"app_id":"${UP_APP}","pushkey":"${this.#world.up.origin}/ok/proto","__proto__":{"x":1},"data":{"__proto__":{"default_payload":1}}}]}}`,
      () => `${'['.repeat(this.pick([65, 1000, 100_000]))}${']'.repeat(this.pick([0, 65, 1000]))}`,
      () =>
        `{"notification":{"devices":[{"app_id":"${FCM_APP}","pushkey":"deep","data":{"default_payload":${'{"a":'.repeat(70)}1${'}'.repeat(70)}}}]}}`,
      () => Uint8Array.from({ length: this.int(64) + 1 }, () => this.int(256)),
      () =>
        Buffer.concat([
          Buffer.from(valid.slice(0, 40)),
          Buffer.from([0xc3, 0x28, 0xff, 0xed, 0xa0, 0x80]),
          Buffer.from(valid.slice(40)),
        ]),
      () =>
        `{"notification":{"devices":[${Array.from({ length: 300 }, (_, i) => `{"app_id":"com.unknown.app","pushkey":"k${i}"}`).join(',')}]}}`,
      () =>
        `{"notification":{"devices":[{"app_id":"${UP_APP}","pushkey":"x"}],"content":{"body":"${'😀'.repeat(140_000)}"}}}`,
      () => this.string(),
    ])();
  }
}

/** Every string pushkey the body names, to check `rejected` against. */
function pushkeysIn(body: unknown): Set<string> {
  const keys = new Set<string>();
  const devices = (body as { notification?: { devices?: unknown } })?.notification?.devices;
  if (Array.isArray(devices)) {
    for (const d of devices) {
      const pushkey = (d as { pushkey?: unknown } | null)?.pushkey;
      if (typeof pushkey === 'string') keys.add(pushkey);
    }
  }
  return keys;
}

function violation(res: GatewayResponse, body: unknown): string | null {
  if (![200, 400, 413, 502, 503].includes(res.status)) return `status ${res.status}`;
  if (res.status === 200) {
    const rejected = res.json?.rejected;
    if (!Array.isArray(rejected)) return '200 without a "rejected" list';
    const known = pushkeysIn(body);
    const stranger = rejected.find((p: unknown) => typeof p !== 'string' || !known.has(p));
    if (stranger !== undefined)
      return `rejected names a pushkey not in the request: ${JSON.stringify(stranger)}`;
    return null;
  }
  const errcode = res.json?.errcode;
  if (res.status === 400 && errcode !== 'M_BAD_JSON' && errcode !== 'M_NOT_JSON')
    return `400 with errcode ${errcode}`;
  if (res.status !== 400 && typeof errcode !== 'string') return `${res.status} without a JSON errcode`;
  return null;
}

function shown(body: string | Uint8Array): string {
  const text = typeof body === 'string' ? body : `<bytes ${Buffer.from(body).toString('hex')}>`;
  return text.length > 4000 ? `${text.slice(0, 4000)}… (${text.length} chars)` : text;
}

describe(`notify fuzz (seed ${SEED}, ${CASES} cases; FUZZ_SEED=${SEED} reproduces)`, () => {
  let world: World;
  let gw: TestGateway;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    const key = writeSigningKey();
    const oauth = await startFakeGoogleOAuth();
    const account = await writeServiceAccount(oauth.tokenUri, { projectId: 'herald-test' });
    oauth.trust(account);
    world = {
      apns: await startFakeApns({
        auth: { mode: 'token', publicKey: key.publicKey, keyId: KEY_ID, teamId: TEAM_ID },
        topic: TOPIC,
      }),
      oauth,
      fcm: await startFakeFcm({ projectId: 'herald-test', isValidToken: (t) => oauth.issued.has(t) }),
      webpush: await startFakePushService(),
      up: await startFakeEndpoint(),
    };
    const vapid = writeVapidKeyFile();
    gw = await startGateway({
      apps: {
        [APNS_APP]: {
          type: 'apns',
          endpoint: world.apns.url,
          keyfile: key.keyfile,
          key_id: KEY_ID,
          team_id: TEAM_ID,
          topic: TOPIC,
        },
        [FCM_APP]: {
          type: 'gcm',
          api_version: 'v1',
          project_id: 'herald-test',
          service_account_file: account.file,
          endpoint: world.fcm.url,
        },
        [WEB_APP]: {
          type: 'webpush',
          vapid_private_key: vapid.path,
          vapid_contact_email: 'ops@example.org',
          allowed_endpoints: ['localhost:*', '127.0.0.1:*'],
        },
        'org.unifiedpush.*': {
          type: 'unifiedpush',
          allowed_endpoints: ['127.0.0.1:*'],
          response_timeout_ms: 500,
        },
        'net.*.app': { type: 'unifiedpush', allowed_endpoints: ['127.0.0.1:*'] },
        'net.ambiguous.*': { type: 'unifiedpush', allowed_endpoints: ['127.0.0.1:*'] },
      },
      dispatch: {
        request_budget_ms: 2000,
        retry: { max_attempts: 2, initial_delay_ms: 5, max_delay_ms: 20 },
      },
      log: { level: 'debug' },
    });
  });

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await gw?.close();
    await Promise.all([
      world?.apns.close(),
      world?.fcm.close(),
      world?.oauth.close(),
      world?.webpush.close(),
      world?.up.close(),
    ]);
  });

  it('never answers 500 or an unlisted status; 400s carry M_BAD_JSON/M_NOT_JSON; 200s reject only own pushkeys', async () => {
    const gen = new Gen(SEED, world);
    // Generate every body up front, in order, so the seed alone fixes them whatever the timing.
    const cases = Array.from({ length: CASES }, (_, i) => {
      const raw = gen.chance(0.15);
      const parsed = raw ? undefined : gen.notifyBody(i);
      const body = raw ? gen.rawBody() : JSON.stringify(parsed);
      const contentType = gen.pick([
        'application/json',
        'application/json; charset=utf-8',
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        '',
      ]);
      return { i, body, parsed, contentType };
    });

    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        const headers: Record<string, string> = c.contentType ? { 'content-type': c.contentType } : {};
        let res: GatewayResponse;
        try {
          res = await gw.request(NOTIFY, {
            method: 'POST',
            headers,
            body: c.body,
            // The budget is 2 s; an answer this late is a hang.
            signal: AbortSignal.timeout(10_000),
          });
        } catch (error) {
          failures.push(`case ${c.i}: no answer (${(error as Error).message})\nbody: ${shown(c.body)}`);
          continue;
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const problem = violation(res, c.parsed ?? safeParse(c.body));
        if (problem) {
          failures.push(`case ${c.i}: ${problem}; answer ${res.text.slice(0, 300)}\nbody: ${shown(c.body)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const bugs = gw.logs.filter((line) => line.msg === 'provider raised an unexpected error');
    const summary = `seed ${SEED}: ${CASES} cases, statuses ${JSON.stringify(Object.fromEntries(statuses))}`;
    assert.deepEqual(failures, [], `${summary}\n${failures.join('\n\n')}`);
    assert.deepEqual(bugs, [], `${summary}: the gateway logged provider bugs`);
    assert.deepEqual(unhandled, [], `${summary}: unhandled rejections`);
    // What Herald did send, the services accepted: no shape of input makes it build a bad request.
    assert.deepEqual(world.fcm.refusals, [], `${summary}: FCM refused requests`);
    assert.deepEqual(world.webpush.refused, [], `${summary}: the Web Push service refused requests`);
    // The fuzz must reach the providers and the parser, or it tests nothing.
    assert.ok((statuses.get(200) ?? 0) > CASES / 10, summary);
    assert.ok((statuses.get(400) ?? 0) > CASES / 20, summary);
    assert.ok(world.apns.requests.length > 0, 'APNs was reached');
    assert.ok(world.fcm.received.length > 0, 'FCM was reached');
    assert.ok(world.webpush.received.length > 0, 'the Web Push service was reached');
    assert.ok(world.up.received.length > 0, 'the UnifiedPush endpoint was reached');
    console.log(
      `${summary}; reached APNs ${world.apns.requests.length}, FCM ${world.fcm.received.length}, ` +
        `Web Push ${world.webpush.received.length}, UnifiedPush ${world.up.received.length}`,
    );
  });
});

function safeParse(body: string | Uint8Array): unknown {
  try {
    return JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch {
    return undefined;
  }
}
