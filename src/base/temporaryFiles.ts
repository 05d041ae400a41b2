import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';

/**
 * Partial files and folders (the archive's body, spool and partial file, staged secret files,
 * the Redis AOF spool) and the restore lock are registered here while they exist, so that an
 * interrupted or failed run removes them: an unfinished archive must never be left looking
 * finished, nor a spool file full of secrets left behind. A run killed outright (SIGKILL) cannot
 * clean up: the next backup removes the archive files whose process is gone.
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
