import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PreconditionError } from './errors.js';

const LOCK_NAME = '.orkestra-restore.lock';

/**
 * One restore at a time per project: two restores interleaving their writes would leave a
 * deployment that matches neither backup. A lock left by a process that no longer exists is taken over.
 */
export async function acquireRestoreLock(dockerDir: string): Promise<() => Promise<void>> {
  const path = join(dockerDir, LOCK_NAME);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid} ${new Date().toISOString()}\n`);
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const [pid, since] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
      if (isAlive(Number(pid))) {
        throw new PreconditionError(`another restore (pid ${pid}, started ${since}) is running on this project.`, {
          hint: `Wait for it to finish; if it is gone, remove docker/${LOCK_NAME}.`,
        });
      }
      await rm(path, { force: true });
    }
  }
  throw new PreconditionError(`cannot take the restore lock docker/${LOCK_NAME}.`);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
