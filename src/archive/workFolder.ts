import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from '../base/processes.js';
import { removeTemporary, trackTemporary } from '../base/temporaryFiles.js';

const PREFIX = 'orkestra-backup-work-';
const LEFTOVER = /^orkestra-backup-work-(\d+)-[0-9a-f]{8}$/;

/**
 * A private folder (0700, under TMPDIR) for the working files of an archive that has no local
 * file of its own (an S3 object, standard output): the index spools, spooled command output,
 * the head. It is removed when the run ends; one left by a killed run is removed by the next.
 */
export class WorkFolder {
  private constructor(readonly path: string) {}

  static async create(): Promise<WorkFolder> {
    const base = tmpdir();
    for (const name of await readdir(base).catch(() => [] as string[])) {
      const match = LEFTOVER.exec(name);
      if (match && !isProcessAlive(Number(match[1]))) await rm(join(base, name), { recursive: true, force: true });
    }
    const path = join(base, `${PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
    trackTemporary(path);
    await mkdir(path, { mode: 0o700 });
    return new WorkFolder(path);
  }

  file(role: string): string {
    return join(this.path, `${role}-${randomBytes(4).toString('hex')}`);
  }

  remove(): Promise<void> {
    return removeTemporary(this.path);
  }
}
