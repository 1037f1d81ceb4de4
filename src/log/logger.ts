/**
 * Logging: pino JSON lines. Pushkeys are secrets (a pushkey is enough to push to a phone, and a
 * UnifiedPush/Web Push pushkey is a capability URL or key), so they are only ever logged as
 * `pushkeyTag()`, a short hash that still lets an operator correlate lines.
 */
import { createHash } from 'node:crypto';
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LogOptions {
  level: string;
}

export function createLogger(options: LogOptions, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'herald' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Belt and braces: if a pushkey ever reaches a log call as a field, it is hidden.
      redact: {
        paths: ['pushkey', '*.pushkey', 'device.pushkey', 'req.headers.authorization'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** A short, stable, non-reversible tag for a pushkey, for logs. */
export function pushkeyTag(pushkey: string): string {
  return createHash('sha256').update(pushkey).digest('base64url').slice(0, 12);
}
