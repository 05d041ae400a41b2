import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createPrivateFolder, removeTemporary } from '../base/temporaryFiles.js';

/**
 * A private folder (0700, under TMPDIR) for the working files of an archive that has no local
 * file of its own (an S3 object, standard output): the index spools, spooled command output,
 * the head. It is removed when the run ends; one left by a killed run is removed by the next.
 */
export class WorkFolder {
  private constructor(readonly path: string) {}

  static async create(): Promise<WorkFolder> {
    return new WorkFolder(await createPrivateFolder('orkestra-backup-work-'));
  }

  file(role: string): string {
    return join(this.path, `${role}-${randomBytes(4).toString('hex')}`);
  }

  remove(): Promise<void> {
    return removeTemporary(this.path);
  }
}
