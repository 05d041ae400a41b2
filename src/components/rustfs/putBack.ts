import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createPrivateFolder, removeTemporary } from '../../base/temporaryFiles.js';
import type { ObjectStore } from '../../s3/client/store.js';

type Change = readonly ['add' | 'overwrite', bucket: string, key: string, size: number];

/**
 * What a selective restore changes in the store, written down before each change into a file of
 * a private temporary folder (a selection of a million objects never sits in memory). When the
 * restore fails, `putBack` undoes every change: an overwritten object is copied back from the
 * bucket it was kept in, an added one is deleted. Undoing a change that never happened is
 * harmless: the kept copy is the live object, and deleting a missing key is no error.
 */
export class ChangeJournal {
  private constructor(
    private readonly folder: string,
    private readonly file: FileHandle,
  ) {}

  static async open(): Promise<ChangeJournal> {
    const folder = await createPrivateFolder('orkestra-object-changes-');
    return new ChangeJournal(folder, await open(join(folder, 'changes.jsonl'), 'a', 0o600));
  }

  /** Called before the change: an overwrite once its live object is kept in the aside bucket. */
  async note(change: Change[0], bucket: string, key: string, size = 0): Promise<void> {
    const line: Change = [change, bucket, key, size];
    await this.file.write(`${JSON.stringify(line)}\n`);
  }

  /** Undoes every change written down, one after another; returns how many. */
  async putBack(store: ObjectStore, asideBucket: string, retrying: <T>(work: () => Promise<T>) => Promise<T>): Promise<number> {
    await this.file.sync();
    let undone = 0;
    const lines = createInterface({ input: createReadStream(join(this.folder, 'changes.jsonl')), crlfDelay: Infinity });
    for await (const line of lines) {
      const [change, bucket, key, size] = JSON.parse(line) as Change;
      if (change === 'overwrite') await retrying(() => store.copyObject(asideBucket, `${bucket}/${key}`, bucket, key, size));
      else await retrying(() => store.deleteObject(bucket, key));
      undone += 1;
    }
    return undone;
  }

  async close(): Promise<void> {
    await this.file.close().catch(() => undefined);
    await removeTemporary(this.folder);
  }
}
