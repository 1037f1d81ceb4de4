/**
 * The config `type` → provider module table. Adding a push service means adding its folder and
 * one line here; tests pass extra modules to buildApp() instead.
 */
import { apnsModule } from './apns/apns-provider.ts';
import { fcmModule } from './fcm/fcm-provider.ts';
import type { ProviderModule } from './provider.ts';
import { unifiedPushModule } from './unifiedpush/unifiedpush-provider.ts';
import { webPushModule } from './webpush/webpush-provider.ts';

export const BUILTIN_PROVIDERS: readonly ProviderModule<never>[] = [
  apnsModule,
  unifiedPushModule,
  webPushModule,
  fcmModule,
];

export function providerTable(extra: readonly ProviderModule<never>[] = []): Map<string, ProviderModule> {
  return new Map(
    [...BUILTIN_PROVIDERS, ...extra].map((module) => [module.type, module as unknown as ProviderModule]),
  );
}
