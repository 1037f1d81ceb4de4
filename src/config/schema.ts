/**
 * The configuration schema: Sygnal's YAML keys unchanged, plus Herald's own, with every default
 * inside the schema. The `description`s are the documentation: config.sample.yaml and docs/config.md
 * are generated from them. App sections are checked against the schema their provider declares.
 */
import type { JsonSchema } from '../providers/provider.ts';

export interface RetryConfig {
  max_attempts: number;
  initial_delay_ms: number;
  max_delay_ms: number;
  factor: number;
}

export interface AppConfig {
  type: string;
  inflight_request_limit: number;
  endpoint?: string;
  connect_timeout_ms: number;
  response_timeout_ms: number;
  [key: string]: unknown;
}

export interface HeraldConfig {
  http: { bind_addresses: string[]; port: number; max_body_bytes: number };
  log: { level: string; access: { x_forwarded_for: boolean } };
  proxy?: string;
  metrics: { prometheus: { enabled: boolean; address: string; port: number } };
  dispatch: { request_budget_ms: number; retry: RetryConfig; shutdown_grace_ms: number };
  dedup: { enabled: boolean; window_seconds: number; rejected_window_seconds: number; max_entries: number };
  apps: Record<string, AppConfig>;
}

/** Keys every app section has, whatever its `type`. */
export const COMMON_APP_PROPERTIES: Record<string, JsonSchema> = {
  type: { type: 'string', description: 'Which push service: apns, gcm, webpush or unifiedpush.' },
  inflight_request_limit: {
    type: 'integer',
    minimum: 1,
    default: 512,
    description: 'Pushes in flight for this app at once; past it Herald answers 503 with Retry-After.',
  },
  endpoint: {
    type: 'string',
    format: 'http-url',
    description: 'Base URL replacing the push service host (regional endpoints, proxies, test servers).',
  },
  connect_timeout_ms: {
    type: 'integer',
    minimum: 100,
    default: 5000,
    description: 'Time to open a connection (TCP and TLS) to the push service.',
  },
  response_timeout_ms: {
    type: 'integer',
    minimum: 100,
    default: 10000,
    description: 'Time for the push service to answer one push.',
  },
};

const retrySchema = {
  type: 'object',
  default: {},
  additionalProperties: false,
  description: 'How a push that failed temporarily is retried inside the request budget.',
  properties: {
    max_attempts: { type: 'integer', minimum: 1, maximum: 20, default: 4, description: 'Tries in all.' },
    initial_delay_ms: { type: 'integer', minimum: 0, default: 200, description: 'First backoff.' },
    max_delay_ms: { type: 'integer', minimum: 0, default: 5000, description: 'Longest backoff.' },
    factor: { type: 'number', minimum: 1, default: 2, description: 'Backoff growth per try.' },
  },
};

export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    http: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: {
        bind_addresses: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          minItems: 1,
          default: ['127.0.0.1'],
          description: 'Addresses to listen on.',
        },
        port: {
          type: 'integer',
          minimum: 0,
          maximum: 65535,
          default: 5000,
          description: 'Port to listen on.',
        },
        max_body_bytes: {
          type: 'integer',
          minimum: 1024,
          default: 524288,
          description: 'Largest notify body accepted (Sygnal: 512 KiB); larger gets 413 M_TOO_LARGE.',
        },
      },
    },
    log: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: {
        level: {
          type: 'string',
          enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
          default: 'info',
          description: 'Log level (JSON lines on stdout).',
        },
        setup: { description: "Sygnal's Python logging dictConfig: not used by Herald (use log.level)." },
        access: {
          type: 'object',
          default: {},
          additionalProperties: false,
          properties: {
            x_forwarded_for: {
              type: 'boolean',
              default: false,
              description: 'Trust X-Forwarded-For for the client address in logs (behind a reverse proxy).',
            },
          },
        },
      },
    },
    proxy: {
      type: 'string',
      format: 'http-url',
      description:
        'Outbound HTTP proxy for APNs and FCM (Sygnal: proxy), through HTTP CONNECT. Web Push and ' +
        'UnifiedPush endpoints are contacted directly: their address check needs our own DNS lookup.',
    },
    metrics: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: {
        prometheus: {
          type: 'object',
          default: {},
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean', default: false, description: 'Serve Prometheus metrics.' },
            address: {
              type: 'string',
              default: '127.0.0.1',
              description: 'Address of the metrics listener.',
            },
            port: { type: 'integer', minimum: 0, maximum: 65535, default: 8000, description: 'Its port.' },
          },
        },
        opentracing: {
          description: "Sygnal's OpenTracing: not supported by Herald; ignored with a warning.",
        },
        sentry: { description: "Sygnal's Sentry: not supported by Herald; ignored with a warning." },
      },
    },
    dispatch: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: {
        request_budget_ms: {
          type: 'integer',
          minimum: 100,
          maximum: 55000,
          default: 10000,
          description:
            'Time one notify request may take, retries included, before Herald answers 502 ' +
            '(homeservers give up after 30-60 s).',
        },
        retry: retrySchema,
        shutdown_grace_ms: {
          type: 'integer',
          minimum: 0,
          default: 10000,
          description: 'On SIGTERM, how long in-flight requests may take to finish.',
        },
      },
    },
    dedup: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Suppress duplicate pushes by event_id.' },
        window_seconds: {
          type: 'integer',
          minimum: 1,
          default: 600,
          description: 'How long a delivered (event_id, app_id, pushkey) is not pushed again.',
        },
        rejected_window_seconds: {
          type: 'integer',
          minimum: 0,
          default: 86400,
          description: 'How long a pushkey a provider declared dead is rejected without asking the provider.',
        },
        max_entries: {
          type: 'integer',
          minimum: 100,
          default: 200000,
          description: 'Most records kept in memory; the oldest go first.',
        },
      },
    },
    apps: {
      type: 'object',
      default: {},
      description: 'One section per app_id (or glob such as "im.example.*"), each with a type.',
      additionalProperties: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } },
    },
  },
} as const;

/** The embedded default: a working UnifiedPush Matrix gateway for any app_id, on 127.0.0.1:5000. */
export const DEFAULT_CONFIG_YAML = `# Herald's embedded default configuration
http:
  bind_addresses: ['127.0.0.1']
  port: 5000
apps:
  '*':
    type: unifiedpush
`;
