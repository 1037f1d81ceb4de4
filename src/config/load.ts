/**
 * YAML → validated, defaulted, deep-frozen HeraldConfig. A bad config raises ConfigError with the
 * key path and what to set; keys Herald does not know are reported as warnings, not errors, so an
 * existing Sygnal config keeps working (Sygnal itself ignores unknown keys).
 */
import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.ts';
import type { ProviderModule } from '../providers/provider.ts';
import { type AppConfig, COMMON_APP_PROPERTIES, CONFIG_SCHEMA, type HeraldConfig } from './schema.ts';

export interface LoadedConfig {
  config: HeraldConfig;
  warnings: string[];
}

/** `apps["com.example.app"].type` from ["apps", "com.example.app", "type"]. */
export function formatKeyPath(segments: readonly (string | number)[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) path += path === '' ? segment : `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path === '' ? '(top level)' : path;
}

function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The key path (relative to the checked section) and what the operator should set. */
function describeError(error: ErrorObject): { segments: string[]; message: string } {
  const segments = pointerSegments(error.instancePath);
  const schema = error.parentSchema as { description?: string } | undefined;
  const hint = schema?.description ? ` (${schema.description})` : '';
  switch (error.keyword) {
    case 'required': {
      const key = (error.params as { missingProperty: string }).missingProperty;
      return { segments: [...segments, key], message: 'is required but missing; set it.' };
    }
    case 'type':
      return { segments, message: `must be of type ${(error.params as { type: string }).type}${hint}.` };
    case 'format':
      return { segments, message: `must be an http:// or https:// URL with a host${hint}.` };
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      return { segments, message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}.` };
    }
    default:
      return { segments, message: `${error.message ?? 'is invalid'}${hint}.` };
  }
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
// An absolute http(s) URL that really parses, with a host: `https://` alone or a space in the host
// would otherwise pass a pattern and fail later, at start, without naming the key.
ajv.addFormat('http-url', (text: string) => {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
});

/** Runs ajv, splitting unknown keys (warnings) from real errors (the first one thrown). */
function check(schema: object, value: unknown, prefix: string[], warnings: string[]): void {
  const validate = ajv.compile(schema);
  if (validate(value)) return;
  const errors = validate.errors ?? [];
  for (const error of errors) {
    if (error.keyword !== 'additionalProperties') continue;
    const key = (error.params as { additionalProperty: string }).additionalProperty;
    const path = formatKeyPath([...prefix, ...pointerSegments(error.instancePath), key]);
    warnings.push(`config: ${path}: unknown key, ignored.`);
  }
  const first = errors.find((e) => e.keyword !== 'additionalProperties');
  if (first) {
    const { segments, message } = describeError(first);
    throw new ConfigError(formatKeyPath([...prefix, ...segments]), message);
  }
}

const SYGNAL_ONLY_KEYS: [string[], string][] = [
  [['log', 'setup'], 'Python logging setup is not used by Herald; set log.level instead.'],
  [['metrics', 'opentracing'], 'OpenTracing is not supported; use Prometheus metrics (metrics.prometheus).'],
  [['metrics', 'sentry'], 'Sentry is not supported; errors are logged as JSON lines at level "error".'],
];

function getPath(value: unknown, path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Validates a parsed config against the core schema and each app's provider schema. */
export function validateConfig(raw: unknown, modules: ReadonlyMap<string, ProviderModule>): LoadedConfig {
  const warnings: string[] = [];
  const config = structuredClone(raw ?? {}) as Record<string, unknown>;
  if (typeof config !== 'object' || Array.isArray(config)) {
    throw new ConfigError('(top level)', 'the config must be a YAML mapping of sections (http, apps, …).');
  }
  check(CONFIG_SCHEMA, config, [], warnings);
  for (const [path, replacement] of SYGNAL_ONLY_KEYS) {
    const value = getPath(config, path);
    if (
      value !== undefined &&
      value !== null &&
      !(typeof value === 'object' && (value as { enabled?: unknown }).enabled === false)
    ) {
      warnings.push(`config: ${formatKeyPath(path)}: ${replacement}`);
    }
  }
  const apps = config.apps as Record<string, AppConfig>;
  for (const [appId, section] of Object.entries(apps)) {
    const module = modules.get(section.type);
    if (!module) {
      throw new ConfigError(
        formatKeyPath(['apps', appId, 'type']),
        `unknown type ${JSON.stringify(section.type)}; set one of ${[...modules.keys()].join(', ')}.`,
      );
    }
    const schema = {
      type: 'object',
      additionalProperties: false,
      required: ['type', ...(module.requiredKeys ?? [])],
      properties: { ...COMMON_APP_PROPERTIES, ...module.configProperties },
    };
    check(schema, section, ['apps', appId], warnings);
  }
  return { config: deepFreeze(config as unknown as HeraldConfig), warnings };
}

export function parseConfigText(text: string, source: string): unknown {
  try {
    return parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError(source, `not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
}

export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      path,
      `cannot read the config file (${(error as NodeJS.ErrnoException).code ?? error}).`,
    );
  }
  return parseConfigText(text, path);
}
