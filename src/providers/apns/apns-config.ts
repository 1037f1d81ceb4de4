/**
 * The `type: apns` app section: Sygnal's keys unchanged (so a Sygnal config works as is), plus
 * Herald's transport settings. Defaults live in the schema; apns-auth.ts checks what a schema
 * cannot (files readable, keys parse).
 */
import type { CommonAppConfig, JsonSchema } from '../provider.ts';

export interface ApnsConfig extends CommonAppConfig {
  keyfile?: string;
  key_id?: string;
  team_id?: string;
  topic?: string;
  certfile?: string;
  platform?: 'production' | 'prod' | 'sandbox';
  push_type?: string;
  convert_device_token_to_hex: boolean;
  send_badge_counts: boolean;
  max_connections: number;
  ping_interval_ms: number;
}

/**
 * `apns-push-type` values Apple defines (Sygnal accepts the first six).
 * https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns
 */
export const APNS_PUSH_TYPES = [
  'alert',
  'background',
  'voip',
  'complication',
  'fileprovider',
  'mdm',
  'location',
  'liveactivity',
  'pushtotalk',
] as const;

export const APNS_CONFIG_PROPERTIES: Record<string, JsonSchema> = {
  keyfile: {
    examples: ['/etc/herald/AuthKey_ABC123DEFG.p8'],
    type: 'string',
    minLength: 1,
    description: 'Token auth: path to the .p8 signing key from the Apple developer account.',
  },
  key_id: {
    type: 'string',
    examples: ['ABC123DEFG'],
    minLength: 1,
    description: 'Token auth: the key ID of that key (JWT `kid`).',
  },
  team_id: {
    type: 'string',
    examples: ['TEAM123456'],
    minLength: 1,
    description: 'Token auth: the Apple team ID (JWT `iss`).',
  },
  topic: {
    examples: ['com.example.app'],
    type: 'string',
    minLength: 1,
    description:
      "Token auth: the app's bundle ID (`apns-topic`). Certificate auth takes it from the certificate.",
  },
  certfile: {
    type: 'string',
    minLength: 1,
    description:
      'Certificate auth: path to a PEM file with the client certificate and its key. Wins over keyfile.',
  },
  platform: {
    type: 'string',
    enum: ['production', 'prod', 'sandbox'],
    description: 'production (api.push.apple.com, the default) or sandbox (api.sandbox.push.apple.com).',
  },
  push_type: {
    type: 'string',
    enum: [...APNS_PUSH_TYPES],
    description:
      'The apns-push-type header. Unset: `alert` for payloads with aps.alert, no header otherwise.',
  },
  convert_device_token_to_hex: {
    type: 'boolean',
    default: true,
    description: 'Pushkeys are base64 device tokens, sent to Apple as hex. false: send the pushkey as is.',
  },
  send_badge_counts: {
    type: 'boolean',
    default: true,
    description: 'Send the unread count as the badge (and as unread_count/missed_calls for event_id_only).',
  },
  max_connections: {
    type: 'integer',
    minimum: 1,
    maximum: 64,
    default: 4,
    description: 'HTTP/2 connections to APNs per app; each carries as many streams as Apple allows.',
  },
  ping_interval_ms: {
    type: 'integer',
    minimum: 1000,
    default: 60000,
    description: 'HTTP/2 PING interval that keeps idle connections alive and detects dead ones.',
  },
};

const HOSTS = {
  production: 'https://api.push.apple.com',
  sandbox: 'https://api.sandbox.push.apple.com',
} as const;

/** Where pushes go: the `endpoint` override, else Apple's host for the platform. No trailing slash. */
export function apnsBaseUrl(config: Pick<ApnsConfig, 'endpoint' | 'platform'>): URL {
  const base = config.endpoint ?? (config.platform === 'sandbox' ? HOSTS.sandbox : HOSTS.production);
  return new URL(base.replace(/\/+$/, ''));
}
