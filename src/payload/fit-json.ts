/**
 * Keeping a JSON payload under a push service's byte limit by cutting its longest strings, in time
 * linear in the payload (Sygnal cuts one character at a time and re-serialises every time, which
 * costs seconds of CPU on a 64 KB message). Cuts fall on character boundaries and end in "…".
 */

export type JsonPath = readonly (string | number)[];

const ELLIPSIS = '…';

/** Bytes a string adds to UTF-8 JSON text, quotes excluded, as JSON.stringify escapes it. */
function encodedCharBytes(codePoint: number): number {
  if (codePoint === 0x22 || codePoint === 0x5c) return 2; // \" \\
  if (codePoint < 0x20) return [0x08, 0x09, 0x0a, 0x0c, 0x0d].includes(codePoint) ? 2 : 6;
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) return 6; // a lone surrogate is escaped as \uXXXX
  if (codePoint < 0x10000) return 3;
  return 4;
}

export function jsonStringBytes(text: string): number {
  let bytes = 2;
  for (const char of text) bytes += encodedCharBytes(char.codePointAt(0)!);
  return bytes;
}

/** The longest prefix of `text` whose JSON encoding (quotes excluded) takes at most `budget` bytes. */
export function cutToEncodedBytes(text: string, budget: number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    used += encodedCharBytes(char.codePointAt(0)!);
    if (used > budget) break;
    end += char.length;
  }
  return text.slice(0, end);
}

/** Cuts a plain string to at most `maxBytes` of UTF-8 at a character boundary, ending in "…" if cut. */
export function cutUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let used = 0;
  let end = 0;
  const budget = maxBytes - Buffer.byteLength(ELLIPSIS);
  for (const char of text) {
    const bytes = Buffer.byteLength(char);
    if (used + bytes > budget) break;
    used += bytes;
    end += char.length;
  }
  return text.slice(0, end) + ELLIPSIS;
}

interface Leaf {
  parent: Record<string | number, unknown>;
  key: string | number;
  bytes: number;
}

function collectLeaves(
  value: unknown,
  path: (string | number)[],
  cuttable: (path: JsonPath) => boolean,
  out: Leaf[],
) {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      if (typeof item === 'string') {
        if (cuttable([...path, i]))
          out.push({ parent: value as never, key: i, bytes: jsonStringBytes(item) });
      } else collectLeaves(item, [...path, i], cuttable, out);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (typeof item === 'string') {
        if (cuttable([...path, key])) {
          out.push({ parent: value as Record<string, unknown>, key, bytes: jsonStringBytes(item) });
        }
      } else collectLeaves(item, [...path, key], cuttable, out);
    }
  }
}

/**
 * Returns a copy of `value` whose compact JSON takes at most `maxBytes`, made by cutting the longest
 * cuttable strings first, or null when even empty cuttable strings do not fit.
 */
export function fitJson<T>(
  value: T,
  maxBytes: number,
  cuttable: (path: JsonPath) => boolean = () => true,
): T | null {
  const size = Buffer.byteLength(JSON.stringify(value));
  if (size <= maxBytes) return value;
  const copy = structuredClone(value);
  const leaves: Leaf[] = [];
  collectLeaves(copy, [], cuttable, leaves);
  leaves.sort((a, b) => b.bytes - a.bytes);
  let overflow = size - maxBytes;
  const ellipsisBytes = jsonStringBytes(ELLIPSIS) - 2;
  for (const leaf of leaves) {
    if (overflow <= 0) break;
    const text = leaf.parent[leaf.key] as string;
    const contentBytes = leaf.bytes - 2;
    const keep = contentBytes - overflow - ellipsisBytes;
    const cut = keep > 0 ? cutToEncodedBytes(text, keep) + ELLIPSIS : '';
    leaf.parent[leaf.key] = cut;
    overflow -= contentBytes - (jsonStringBytes(cut) - 2);
  }
  return overflow <= 0 ? copy : null;
}
