/**
 * Whether a path (`docker/data/a`, `/srv/spool`) is one a glob pattern matches, with the syntax
 * the folder globs use when they are expanded (tinyglobby, with dot files matched): `*` and `?`
 * within one segment, `**` for any number of whole segments, `[a-z]` / `[!a-z]` and `{a,b}`.
 * For folders that may not exist yet, which a glob over the disk cannot find.
 */
export function matchesGlob(path: string, pattern: string): boolean {
  return new RegExp(`^${patternSource(trimSlashes(pattern))}$`).test(trimSlashes(path));
}

function trimSlashes(text: string): string {
  const trimmed = text.replace(/^\.\/+/, '').replace(/\/+$/, '');
  return trimmed === '' && text.startsWith('/') ? '/' : trimmed;
}

function patternSource(pattern: string): string {
  let source = '';
  for (let at = 0; at < pattern.length; at += 1) {
    const char = pattern[at];
    if (char === '*' && pattern[at + 1] === '*' && startsSegment(pattern, at) && endsSegment(pattern, at + 2)) {
      if (pattern[at + 2] === '/') {
        source += '(?:[^/]+/)*';
        at += 2;
      } else if (source.endsWith('/')) {
        source = `${source.slice(0, -1)}(?:/[^/]+)*`;
        at += 1;
      } else {
        source += '.*';
        at += 1;
      }
    } else if (char === '*') {
      source += '[^/]*';
      while (pattern[at + 1] === '*') at += 1;
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '[' && pattern.indexOf(']', at + 2) > 0) {
      const end = pattern.indexOf(']', at + 2);
      const body = pattern
        .slice(at + 1, end)
        .replace(/^!/, '^')
        .replace(/\\/g, '\\\\');
      source += `[${body}]`;
      at = end;
    } else if (char === '{' && closingBrace(pattern, at) > 0) {
      const end = closingBrace(pattern, at);
      source += `(?:${splitAlternatives(pattern.slice(at + 1, end))
        .map(patternSource)
        .join('|')})`;
      at = end;
    } else if (char === '\\' && at + 1 < pattern.length) {
      at += 1;
      source += escapeChar(pattern[at]);
    } else {
      source += escapeChar(char);
    }
  }
  return source;
}

function startsSegment(pattern: string, at: number): boolean {
  return at === 0 || pattern[at - 1] === '/';
}

function endsSegment(pattern: string, at: number): boolean {
  return at === pattern.length || pattern[at] === '/';
}

function closingBrace(pattern: string, open: number): number {
  let depth = 0;
  for (let at = open; at < pattern.length; at += 1) {
    if (pattern[at] === '{') depth += 1;
    else if (pattern[at] === '}' && --depth === 0) return at;
  }
  return -1;
}

/** `a,{b,c},d` → `a`, `{b,c}`, `d`: commas of nested braces stay inside their alternative. */
function splitAlternatives(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let at = 0; at < body.length; at += 1) {
    if (body[at] === '{') depth += 1;
    else if (body[at] === '}') depth -= 1;
    else if (body[at] === ',' && depth === 0) {
      parts.push(body.slice(start, at));
      start = at + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

function escapeChar(char: string): string {
  return /[.+^${}()|[\]\\]/.test(char) ? `\\${char}` : char;
}
