import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';

/**
 * Every partial file the tool creates is registered here, so that an interrupted or failed
 * run removes it: an unfinished archive must never be left looking finished, nor a spool file
 * full of secrets left behind.
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
