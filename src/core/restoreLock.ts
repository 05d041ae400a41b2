import { randomBytes } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PreconditionError } from '../base/errors.js';
import { trackTemporary, untrackTemporary } from '../base/temporaryFiles.js';
import { isProcessAlive } from '../base/processes.js';

const LOCK_NAME = '.orkestra-restore.lock';

/**
 * One restore at a time per project: two restores interleaving their writes would leave a
 * deployment that matches neither backup. The lock file appears whole or not at all (its
 * content is written to a private file first, then hard-linked into place, which fails if the
 * lock exists), so a reader never sees it empty. A lock whose process is gone is broken under a
 * second lock, so that two restores finding the same stale lock cannot both take it over. The
 * lock is released only by its owner, and on every exit path (also when the process is ended
 * by a signal).
 */
export async function acquireRestoreLock(dockerDir: string): Promise<() => Promise<void>> {
  const path = join(dockerDir, LOCK_NAME);
  const content = `${process.pid} ${new Date().toISOString()} ${randomBytes(4).toString('hex')}\n`;
  const draft = `${path}.${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(draft, content, { flag: 'wx', mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      if (await linked(draft, path)) {
        trackTemporary(path);
        return () => releaseIfOurs(path, content);
      }
      const holder = await readFile(path, 'utf8').catch(() => undefined);
      if (holder === undefined) continue; // released in between: try again
      const [pid, since] = holder.trim().split(' ');
      if (isProcessAlive(Number(pid))) {
        throw new PreconditionError(`another restore (pid ${pid}, started ${since}) is running on this project.`, {
          hint: `Wait for it to finish; if it is gone, remove docker/${LOCK_NAME}.`,
        });
      }
      await breakStaleLock(path, holder, draft);
    }
  } finally {
    await rm(draft, { force: true });
  }
  throw new PreconditionError(`cannot take the restore lock docker/${LOCK_NAME}.`, {
    hint: 'Another restore is starting at the same moment; try again.',
  });
}

/** Removes a dead process's lock — only if it is still that lock, and only one breaker at a time. */
async function breakStaleLock(path: string, staleContent: string, draft: string): Promise<void> {
  const breaker = `${path}.break`;
  if (!(await linked(draft, breaker))) {
    const [pid] = (await readFile(breaker, 'utf8').catch(() => '')).trim().split(' ');
    if (!isProcessAlive(Number(pid))) await rm(breaker, { force: true }); // a breaker that died mid-way
    return;
  }
  try {
    if ((await readFile(path, 'utf8').catch(() => undefined)) === staleContent) await rm(path, { force: true });
  } finally {
    await rm(breaker, { force: true });
  }
}

async function releaseIfOurs(path: string, content: string): Promise<void> {
  untrackTemporary(path);
  if ((await readFile(path, 'utf8').catch(() => undefined)) === content) await rm(path, { force: true });
}

async function linked(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}
