/**
 * Where the config comes from: `--config FILE`, else `SYGNAL_CONF` (so a Sygnal deployment's
 * environment works unchanged), else the embedded default.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.ts';
import { parseConfigText, readConfigFile } from './load.ts';
import { DEFAULT_CONFIG_YAML } from './schema.ts';

export interface ConfigSource {
  raw: unknown;
  /** A file path, or "embedded default". */
  origin: string;
}

export async function resolveConfigSource(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<ConfigSource> {
  let values: { config?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { config: { type: 'string', short: 'c' } },
      strict: true,
    }));
  } catch (error) {
    throw new ConfigError('(command line)', `${(error as Error).message}; usage: herald [--config FILE]`);
  }
  const path = values.config ?? (env.SYGNAL_CONF || undefined);
  if (path !== undefined) return { raw: await readConfigFile(path), origin: path };
  return { raw: parseConfigText(DEFAULT_CONFIG_YAML, 'embedded default'), origin: 'embedded default' };
}
