/**
 * Redis's glob (`stringmatchlen` of its util.c), on a key's bytes: what KEYS and SCAN MATCH
 * take. `*` any run of bytes, `?` one byte, `[abc]`, `[^a]`, `[a-z]`, and `\` quoting the next
 * byte. A key picked from an archive is then exactly a key SCAN MATCH finds on the server.
 */
export function redisGlobMatches(pattern: Buffer, key: Buffer): boolean {
  return matchFrom(pattern, 0, key, 0, { giveUp: false });
}

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const BACKSLASH = 0x5c;
const DASH = 0x2d;

/** `giveUp`: a later `*` found the rest cannot match, so no longer match of an earlier one can (as Redis cuts it short). */
function matchFrom(pattern: Buffer, p: number, key: Buffer, k: number, state: { giveUp: boolean }): boolean {
  while (p < pattern.length && k < key.length) {
    const byte = pattern[p];
    if (byte === STAR) {
      while (p + 1 < pattern.length && pattern[p + 1] === STAR) p += 1;
      if (p + 1 === pattern.length) return true;
      for (; k < key.length; k += 1) {
        if (matchFrom(pattern, p + 1, key, k, state)) return true;
        if (state.giveUp) return false;
      }
      state.giveUp = true;
      return false;
    }
    if (byte === QUESTION) k += 1;
    else if (byte === OPEN) {
      const end = matchClass(pattern, p + 1, key[k]);
      if (!end.match) return false;
      p = end.at;
      k += 1;
    } else {
      if (byte === BACKSLASH && p + 1 < pattern.length) p += 1;
      if (pattern[p] !== key[k]) return false;
      k += 1;
    }
    p += 1;
    if (k === key.length) {
      while (p < pattern.length && pattern[p] === STAR) p += 1;
      break;
    }
  }
  return p === pattern.length && k === key.length;
}

/** A `[…]` class from just after its `[`: whether `byte` is in it, and where its `]` is (or the pattern's last byte). */
function matchClass(pattern: Buffer, start: number, byte: number): { match: boolean; at: number } {
  let p = start;
  const negated = pattern[p] === CARET;
  if (negated) p += 1;
  let match = false;
  for (;;) {
    if (p >= pattern.length) {
      p = pattern.length - 1;
      break;
    }
    if (pattern[p] === BACKSLASH && p + 1 < pattern.length) {
      p += 1;
      if (pattern[p] === byte) match = true;
    } else if (pattern[p] === CLOSE) {
      break;
    } else if (p + 2 < pattern.length && pattern[p + 1] === DASH) {
      const low = Math.min(pattern[p], pattern[p + 2]);
      const high = Math.max(pattern[p], pattern[p + 2]);
      p += 2;
      if (byte >= low && byte <= high) match = true;
    } else if (pattern[p] === byte) match = true;
    p += 1;
  }
  return { match: negated ? !match : match, at: p };
}
