/**
 * Without `service_account_file`: Application Default Credentials through google-auth-library
 * (GOOGLE_APPLICATION_CREDENTIALS, gcloud's well-known file, the GCE/GKE metadata server with
 * workload identity). https://cloud.google.com/docs/authentication/application-default-credentials
 * The token is cached and refreshed by TokenCache, like a service account's. google-auth-library
 * takes no AbortSignal and gcp-metadata's request timeout is 0 (none): TokenCache's timeout is what
 * bounds a hung metadata server.
 */
import { GoogleAuth } from 'google-auth-library';
import { FCM_SCOPE } from './service-account-token.ts';
import type { AccessToken, TokenMinter } from './token-cache.ts';

/** Lifetime assumed when the credential does not say (metadata tokens say; a short guess is safe). */
const UNKNOWN_LIFETIME_MS = 5 * 60_000;

export function adcMinter(auth: GoogleAuth = new GoogleAuth({ scopes: [FCM_SCOPE] })): TokenMinter {
  return async (now: number): Promise<AccessToken> => {
    const client = await auth.getClient();
    const { token } = await client.getAccessToken();
    if (!token) throw new Error('Application Default Credentials gave no access token');
    const expiry = client.credentials.expiry_date;
    // expiry_date is wall-clock; translate the remaining lifetime onto the injected clock.
    const remaining = typeof expiry === 'number' ? expiry - Date.now() : UNKNOWN_LIFETIME_MS;
    return { accessToken: token, expiresAt: now + Math.max(0, remaining) };
  };
}
