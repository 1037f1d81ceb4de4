/**
 * Routing a device's app_id to an `apps` entry, as Sygnal does: an exact key wins; otherwise the
 * keys written as globs (`*` any run of characters, dots included; `?` one character) are tried,
 * anchored and case-sensitive. No match, or more than one glob, means the device cannot be routed.
 */

export type Route<T> =
  | { kind: 'found'; key: string; value: T }
  | { kind: 'unknown' }
  | { kind: 'ambiguous'; keys: string[] };

export function isGlob(key: string): boolean {
  return key.includes('*') || key.includes('?');
}

export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const char of glob) {
    if (char === '*') source += '[\\s\\S]*';
    else if (char === '?') source += '[\\s\\S]';
    else source += char.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
}

export class AppRouter<T> {
  readonly #exact = new Map<string, T>();
  readonly #globs: { key: string; pattern: RegExp; value: T }[] = [];

  constructor(entries: Iterable<[string, T]>) {
    for (const [key, value] of entries) {
      if (isGlob(key)) this.#globs.push({ key, pattern: globToRegExp(key), value });
      else this.#exact.set(key, value);
    }
  }

  route(appId: string): Route<T> {
    const exact = this.#exact.get(appId);
    if (exact !== undefined) return { kind: 'found', key: appId, value: exact };
    const matches = this.#globs.filter((glob) => glob.pattern.test(appId));
    if (matches.length === 1) {
      const [only] = matches;
      return { kind: 'found', key: only!.key, value: only!.value };
    }
    if (matches.length === 0) return { kind: 'unknown' };
    return { kind: 'ambiguous', keys: matches.map((glob) => glob.key) };
  }
}
