/**
 * The `type: webpush` app section: Sygnal's keys (vapid_private_key, vapid_contact_email,
 * allowed_endpoints, ttl, max_connections) plus Herald's timeouts, and the start-time checks the
 * schema cannot make (the key file is readable and holds a P-256 key).
 */
import { readFileSync } from 'node:fs';
import { formatKeyPath } from '../../config/load.ts';
import { ConfigError } from '../../errors.ts';
import { ALLOWED_ENDPOINTS_PROPERTY } from '../../net/endpoint-policy.ts';
import type { CommonAppConfig, JsonSchema } from '../provider.ts';
import { parseVapidPrivateKey, type VapidKeys } from './vapid-key.ts';

export interface WebPushConfig extends CommonAppConfig {
  vapid_private_key: string;
  vapid_contact_email: string;
  allowed_endpoints?: string[];
  ttl: number;
  max_connections: number;
}

const GENERATE_HINT =
  'Generate a key pair with `npm run vapid-keys -- <path>` (see docs/providers/webpush.md).';

export const WEBPUSH_CONFIG_PROPERTIES: Record<string, JsonSchema> = {
  vapid_private_key: {
    examples: ['/etc/herald/vapid.pem'],
    type: 'string',
    minLength: 1,
    description: `Path to the VAPID private key (EC P-256, PEM). ${GENERATE_HINT}`,
  },
  vapid_contact_email: {
    examples: ['ops@example.org'],
    type: 'string',
    minLength: 1,
    description: 'Contact address for push services, sent as the VAPID `sub` claim (mailto:).',
  },
  allowed_endpoints: ALLOWED_ENDPOINTS_PROPERTY,
  ttl: {
    type: 'integer',
    minimum: 0,
    default: 900,
    description: 'Seconds a push service keeps an undelivered message (the TTL header).',
  },
  max_connections: {
    type: 'integer',
    minimum: 1,
    default: 20,
    description: 'Connections per push service origin.',
  },
};

export const WEBPUSH_REQUIRED_KEYS = ['vapid_private_key', 'vapid_contact_email'] as const;

/** Reads and parses the VAPID key file; a ConfigError names the key and says how to make one. */
export function loadVapidKeys(appId: string, path: string): VapidKeys {
  const keyPath = formatKeyPath(['apps', appId, 'vapid_private_key']);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(keyPath, `cannot read ${path}: ${(error as Error).message}. ${GENERATE_HINT}`);
  }
  try {
    return parseVapidPrivateKey(text);
  } catch (error) {
    throw new ConfigError(
      keyPath,
      `${path} is not a VAPID private key (${(error as Error).message}). ${GENERATE_HINT}`,
    );
  }
}

/** The VAPID `sub` claim (RFC 8292 §2.1): Sygnal prefixes `mailto:`; an address already prefixed is kept. */
export function vapidSubject(appId: string, contact: string): string {
  const subject = /^(mailto:|https:)/i.test(contact) ? contact : `mailto:${contact}`;
  if (subject.toLowerCase().startsWith('mailto:') && !/^mailto:[^@\s]+@[^@\s]+$/i.test(subject)) {
    throw new ConfigError(
      formatKeyPath(['apps', appId, 'vapid_contact_email']),
      `"${contact}" is not an email address; set the address push services may contact about this gateway.`,
    );
  }
  return subject;
}
