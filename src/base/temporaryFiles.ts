import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
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
  await rm(path, { force: true, recursive: true });
}

/** For the last moments of a process (signal handlers, exit): synchronous and best effort. */
export function removeAllTemporariesSync(): void {
  for (const path of live) {
    try {
      rmSync(path, { force: true, recursive: true });
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
  await removeLeftoversOfGoneRuns(base, prefix);
  const path = join(base, `${prefix}${process.pid}-${randomBytes(4).toString('hex')}`);
  trackTemporary(path);
  await mkdir(path, { mode: 0o700 });
  return path;
}

async function removeLeftoversOfGoneRuns(base: string, prefix: string): Promise<void> {
  const leftover = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d+)-[0-9a-f]{8}$`);
  for (const name of await readdir(base).catch(() => [] as string[])) {
    const match = leftover.exec(name);
    if (match && !isProcessAlive(Number(match[1]))) await rm(join(base, name), { recursive: true, force: true }).catch(() => undefined);
  }
}
