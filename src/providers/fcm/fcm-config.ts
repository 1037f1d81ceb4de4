/**
 * The `type: gcm` app section: Sygnal's keys (api_version, project_id, service_account_file,
 * fcm_options, max_connections, send_badge_counts) plus Herald's timeouts, and the checks the schema
 * cannot express. Only FCM HTTP v1 exists: Google shut the legacy API down in 2024
 * (https://firebase.google.com/docs/cloud-messaging/migrate-v1).
 */
import type { Logger } from 'pino';
import { formatKeyPath } from '../../config/load.ts';
import { ConfigError } from '../../errors.ts';
import { isObject, type JsonObject } from '../../matrix/notification.ts';
import type { CommonAppConfig, JsonSchema } from '../provider.ts';
import { loadServiceAccount, type ServiceAccount } from './service-account-token.ts';

export const FCM_DEFAULT_ENDPOINT = 'https://fcm.googleapis.com';

export interface FcmConfig extends CommonAppConfig {
  api_version?: string;
  api_key?: string;
  project_id?: string;
  service_account_file?: string;
  fcm_options: JsonObject;
  max_connections: number;
  send_badge_counts: boolean;
}

export const FCM_CONFIG_PROPERTIES: Record<string, JsonSchema> = {
  api_version: {
    examples: ['v1'],
    type: 'string',
    description: 'Must be "v1" (FCM HTTP v1). "legacy" is refused: Google shut the legacy API down in 2024.',
  },
  api_key: { type: 'string', description: 'Legacy FCM server key: no longer accepted by Google; remove it.' },
  project_id: {
    examples: ['my-firebase-project'],
    type: 'string',
    minLength: 1,
    description: "Firebase project ID. Defaults to the service account file's project_id.",
  },
  service_account_file: {
    examples: ['/etc/herald/service-account.json'],
    type: 'string',
    minLength: 1,
    description:
      'Path to the service account key (JSON). Without it, Application Default Credentials are used ' +
      '(GOOGLE_APPLICATION_CREDENTIALS, the GCE/GKE metadata server).',
  },
  fcm_options: {
    type: 'object',
    default: {},
    description: 'Merged into every message (android, apns, webpush, fcm_options blocks); never modified.',
  },
  max_connections: {
    type: 'integer',
    minimum: 1,
    default: 4,
    description:
      'Most HTTP/2 connections to FCM; each carries up to 100 pushes at once and a new one opens only ' +
      'when the others are full (Sygnal: HTTP/1.1 connections, default 20).',
  },
  send_badge_counts: {
    type: 'boolean',
    default: true,
    description: 'Send counts.unread and counts.missed_calls in data (as strings; 0 included).',
  },
};

const MIGRATE =
  'Google shut the legacy FCM API down in 2024. Move to HTTP v1: set api_version: v1, project_id ' +
  '(your Firebase project ID) and service_account_file (Firebase console → Project settings → ' +
  'Service accounts → Generate new private key), and remove api_key. ' +
  'See https://firebase.google.com/docs/cloud-messaging/migrate-v1';

export interface ResolvedFcmConfig {
  projectId: string;
  /** Undefined: Application Default Credentials. */
  serviceAccount: ServiceAccount | undefined;
  /** FCM origin and the path prefix of a base URL override (`endpoint`). */
  origin: string;
  basePath: string;
}

/** The cross-field checks; every error names the key to fix and says what to set. */
export async function resolveFcmConfig(
  appId: string,
  config: FcmConfig,
  logger: Logger,
): Promise<ResolvedFcmConfig> {
  const key = (...rest: string[]) => formatKeyPath(['apps', appId, ...rest]);
  if (config.api_version === 'legacy') throw new ConfigError(key('api_version'), MIGRATE);
  if (config.api_version === undefined && config.api_key !== undefined) {
    throw new ConfigError(
      key('api_key'),
      `is set without api_version, which means the legacy API. ${MIGRATE}`,
    );
  }
  if (config.api_version !== undefined && config.api_version !== 'v1') {
    throw new ConfigError(key('api_version'), `must be "v1", got ${JSON.stringify(config.api_version)}.`);
  }
  if (config.api_key !== undefined) logger.warn(`${key('api_key')} is ignored: HTTP v1 uses OAuth2.`);

  if (config.fcm_options.android !== undefined && !isObject(config.fcm_options.android)) {
    throw new ConfigError(key('fcm_options', 'android'), 'must be a mapping (FCM AndroidConfig).');
  }
  for (const replaced of ['data', 'token'] as const) {
    if (config.fcm_options[replaced] !== undefined) {
      logger.warn(`${key('fcm_options', replaced)} is ignored: Herald sets it for every push.`);
    }
  }

  const serviceAccount =
    config.service_account_file === undefined
      ? undefined
      : await loadServiceAccount(config.service_account_file, key('service_account_file'));
  // Decision: project_id may be left out when the key file names the project (the file and the
  // project nearly always belong together); an explicit project_id wins.
  const projectId = config.project_id ?? serviceAccount?.projectId;
  if (projectId === undefined) {
    throw new ConfigError(
      key('project_id'),
      'is required for FCM HTTP v1; set it to your Firebase project ID (Project settings → General).',
    );
  }

  const base = new URL(config.endpoint ?? FCM_DEFAULT_ENDPOINT);
  return {
    projectId,
    serviceAccount,
    origin: base.origin,
    basePath: base.pathname.replace(/\/+$/, ''),
  };
}
