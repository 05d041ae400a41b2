import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from './processes.js';

/**
 * Partial files and folders (the archive's body, spool and partial file, staged secret files,
 * the Redis AOF spool, the MongoDB tools' --config folder) and the restore lock are registered
 * here while they exist, so that an interrupted or failed run removes them: an unfinished
 * archive must never be left looking finished, nor a file full of secrets left behind. A run
 * killed outright (SIGKILL) cannot clean up: the next run removes what a gone process left.
 */
const live = new Set<string>();

export function trackTemporary(path: string): void {
  live.add(path);
}

export function untrackTemporary(path: string): void {
  live.delete(path);
}

export async function removeTemporary(path: string): Promise<void> {
  live.delete(path);
  await removeWhole(path);
}

/**
 * Removes a file, or a folder with everything in it, even where a restored mode took the owner's
 * write permission away (a folder restored 0555): a run that is not root could not empty it
 * otherwise. The folders are opened up (u+rwx) only when the plain removal is refused.
 */
export async function removeWhole(path: string): Promise<void> {
  try {
    await rm(path, { force: true, recursive: true });
  } catch (error) {
    if (!isPermissionError(error)) throw error;
    await openUpFolders(path);
    await rm(path, { force: true, recursive: true });
  }
}

async function openUpFolders(path: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isDirectory()) return; // links are never followed, files need no permission to be unlinked
  await chmod(path, (info.mode & 0o7777) | 0o700);
  for (const name of await readdir(path)) await openUpFolders(join(path, name));
}

function openUpFoldersSync(path: string): void {
  const info = lstatSync(path, { throwIfNoEntry: false });
  if (!info?.isDirectory()) return;
  chmodSync(path, (info.mode & 0o7777) | 0o700);
  for (const name of readdirSync(path)) openUpFoldersSync(join(path, name));
}

function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM';
}

/** For the last moments of a process (signal handlers, exit): synchronous and best effort. */
export function removeAllTemporariesSync(): void {
  for (const path of live) {
    try {
      try {
        rmSync(path, { force: true, recursive: true });
      } catch (error) {
        if (!isPermissionError(error)) throw error;
        openUpFoldersSync(path);
        rmSync(path, { force: true, recursive: true });
      }
    } catch {
      // Nothing more can be done while exiting; the name starts with a dot and says "partial".
    }
  }
  live.clear();
}

/**
 * A private folder (0700, under TMPDIR) named `<prefix><pid>-<random>`, tracked until removed.
 * The pid lets a later run tell a dead run's leftovers, which are removed first: a run killed
 * with SIGKILL cannot clean up, and these folders may hold secrets. A live run's are left alone,
 * and so are another user's (their removal is refused).
 */
export async function createPrivateFolder(prefix: string): Promise<string> {
  const base = tmpdir();
  await removeLeftoversOfGoneRuns(base, ownedName(escapeRegExp(prefix)));
  const path = join(base, `${prefix}${ownedSuffix()}`);
  trackTemporary(path);
  await mkdir(path, { mode: 0o700 });
  return path;
}

/**
 * `<head><pid>-<8 hex digits>` as a pattern, the pid its first group: the form every leftover a
 * run may leave behind is named in, so that a later run can tell whether its owner is gone.
 * `head` is a regular expression (escape literal text with escapeRegExp).
 */
export function ownedName(head: string): RegExp {
  return new RegExp(`^${head}(\\d+)-[0-9a-f]{8}$`);
}

/** `<pid>-<8 hex digits>` for this run: the tail of a name ownedName matches. */
export function ownedSuffix(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Removes the entries of `folder` that runs killed outright (SIGKILL, the machine stopped) left
 * behind: those whose name `pattern` matches, its first group the pid of a process that is gone.
 * They may hold secrets and would otherwise stay forever. A live run's are left alone, and so is
 * anything that cannot be removed (another user's). Returns the names removed.
 */
export async function removeLeftoversOfGoneRuns(folder: string, pattern: RegExp): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    const match = pattern.exec(name);
    if (!match || isProcessAlive(Number(match[1]))) continue;
    const gone = await removeWhole(join(folder, name)).then(
      () => true,
      () => false,
    );
    if (gone) removed.push(name);
  }
  return removed;
}
