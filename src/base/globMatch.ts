import picomatch from 'picomatch';

/**
 * Whether a path (`docker/data/a`, `/srv/spool`) is one a glob pattern matches, with the syntax
 * the folder globs use when they are expanded (tinyglobby, which matches with picomatch in
 * posix mode, dot files included). For folders that may not exist yet, which a glob over the disk cannot find.
 */
export function matchesGlob(path: string, pattern: string): boolean {
  return picomatch(normalisePath(pattern), { dot: true, posix: true })(normalisePath(path));
}

/**
 * A restore selector's glob (`--files`, `--ns`) as a test of one name: picomatch's POSIX syntax,
 * dot files included. picomatch also takes a name spelled exactly like the glob, which makes an
 * escaped glob (`a\*`, a picked name) take a second name (a file called `a\*`): a glob that
 * escapes with `\` is matched by its meaning alone.
 */
export function selectorGlob(pattern: string): (name: string) => boolean {
  const options = { dot: true, posix: true };
  if (!pattern.includes('\\')) return picomatch(pattern, options);
  const meaning = picomatch.makeRe(pattern, options);
  return (name) => meaning.test(name);
}

/**
 * A path or glob as written in orkestra-backup.json or an archive, compared in one form: no
 * leading `./` (any number), no trailing slash; `/` stays `/`, `./` becomes ``.
 */
export function normalisePath(text: string): string {
  const trimmed = text.replace(/^(?:\.\/+)+/, '').replace(/\/+$/, '');
  return trimmed === '' && text.startsWith('/') ? '/' : trimmed;
}

/**
 * Whether a name (a key, a collection, an object's key, a path) matches a glob as `inspect --find`
 * takes it: picomatch's POSIX syntax, case-sensitive, dot files included; a glob without `/` also
 * matches the last segment of a name that has one (`*.pem` finds `keys/jwt.pem`).
 */
export function nameMatcher(pattern: string): (name: string) => boolean {
  const whole = picomatch(pattern, { dot: true, posix: true });
  if (pattern.includes('/')) return whole;
  return (name) => whole(name) || whole(name.slice(name.lastIndexOf('/') + 1));
}
