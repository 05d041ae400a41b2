import picomatch from 'picomatch';

/**
 * Whether a path (`docker/data/a`, `/srv/spool`) is one a glob pattern matches, with the syntax
 * the folder globs use when they are expanded (tinyglobby, which matches with picomatch in
 * posix mode, dot files included). For folders that may not exist yet, which a glob over the disk cannot find.
 */
export function matchesGlob(path: string, pattern: string): boolean {
  return picomatch(trimSlashes(pattern), { dot: true, posix: true })(trimSlashes(path));
}

function trimSlashes(text: string): string {
  const trimmed = text.replace(/^\.\/+/, '').replace(/\/+$/, '');
  return trimmed === '' && text.startsWith('/') ? '/' : trimmed;
}
