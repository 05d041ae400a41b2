import { posix } from 'node:path';

export const MANIFEST_PATH = 'manifest.json';

/** Folder of the per-component file indexes, which follow the manifest; no component may take this name. */
export const INDEX_FOLDER = 'index';

/** `index/rustfs.jsonl`: one line per file of the component, in archive order. */
export function indexPath(component: string): string {
  return `${INDEX_FOLDER}/${component}.jsonl`;
}

/**
 * Turns a tar entry name into the archive path the tool works with, or explains why the
 * entry may not be used. The archives of the original bash scripts were made with
 * `tar czf … -C <dir> .`, so a leading `./` is accepted and dropped.
 */
export function normalizeEntryPath(raw: string): { path: string } | { problem: string } {
  const name = raw.startsWith('./') ? raw.slice(2) : raw;
  const trimmed = name.endsWith('/') ? name.slice(0, -1) : name;
  if (trimmed === '' || trimmed === '.') return { path: '' };
  if (trimmed.startsWith('/') || /^[a-zA-Z]:/.test(trimmed)) {
    return { problem: `absolute path "${raw}"` };
  }
  if (trimmed.includes('\\') || trimmed.includes('\0')) {
    return { problem: `path with a backslash or NUL "${raw}"` };
  }
  const segments = trimmed.split('/');
  if (segments.some((segment) => segment === '..')) {
    return { problem: `path escaping its folder "${raw}"` };
  }
  if (segments.some((segment) => segment === '' || segment === '.')) {
    return { problem: `path with an empty or "." segment "${raw}"` };
  }
  return { path: trimmed };
}

/** The component an archive path belongs to (`redis/dump.rdb` → `redis`), or undefined at the root. */
export function componentOf(archivePath: string): string | undefined {
  const slash = archivePath.indexOf('/');
  return slash === -1 ? undefined : archivePath.slice(0, slash);
}

/** `redis/appendonlydir/x` → `appendonlydir/x`: the path inside the component's folder. */
export function pathInComponent(archivePath: string): string {
  const slash = archivePath.indexOf('/');
  return slash === -1 ? archivePath : archivePath.slice(slash + 1);
}

/** Join a component name and a path inside it, refusing anything that would leave the folder. */
export function componentPath(component: string, relative: string): string {
  const joined = posix.join(component, relative);
  const checked = normalizeEntryPath(joined);
  if ('problem' in checked || componentOf(checked.path) !== component) {
    throw new Error(`refusing archive path ${JSON.stringify(relative)} for ${component}`);
  }
  return checked.path;
}
