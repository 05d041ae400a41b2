import { constants } from 'node:fs';
import { copyFile, link, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RuntimeError } from '../base/errors.js';
import {
  ownedName,
  ownedSuffix,
  removeLeftoversOfGoneRuns,
  removeTemporary,
  trackTemporary,
  untrackTemporary,
} from '../base/temporaryFiles.js';
import { recordNameOf, recordText, type ArchiveRecord } from './archiveRecord.js';
import type { ArchiveCheck, ArchiveDestination, ArchiveHead } from './destination.js';
import { copyThrough, writeAll } from './writeAll.js';
import { numberedArchiveName } from './archiveNames.js';

const PRIVATE = 0o600;

/**
 * A local `.tar.gz`: the body goes into a hidden file beside the final name as it is made; at the
 * end the head and the body are copied into another hidden file, which is synced, read back by
 * the check, and only then linked to its final name (never replacing a file). An interrupted run
 * never leaves a file that looks finished. A record given with it goes beside it as
 * `<final name>.record.json` (0600), renamed into place right after it.
 */
export class FileDestination implements ArchiveDestination {
  private constructor(
    private readonly finalPath: string,
    private readonly bodyPath: string,
    private readonly body: FileHandle,
    private readonly uniqueName: boolean,
  ) {}

  /** `uniqueName`: when the final name is taken, pick the next free `-N` name (default names) instead of failing. */
  static async open(finalPath: string, options: { uniqueName?: boolean } = {}): Promise<FileDestination> {
    await mkdir(dirname(finalPath), { recursive: true });
    await removeLeftoversOfGoneRuns(dirname(finalPath), LEFTOVER);
    const bodyPath = hiddenSibling(finalPath, 'body');
    trackTemporary(bodyPath);
    const body = await open(bodyPath, 'wx', PRIVATE);
    return new FileDestination(finalPath, bodyPath, body, options.uniqueName ?? false);
  }

  workPath(role: string): string {
    return hiddenSibling(this.finalPath, role);
  }

  writeBody(bytes: Buffer): Promise<void> {
    return writeAll(this.body, bytes);
  }

  async publish(head: ArchiveHead, check?: ArchiveCheck, record?: ArchiveRecord): Promise<{ path: string; bytes: number }> {
    // No fsync of the body: it is copied behind the head and removed, and the copy is what is
    // synced before it gets its final name. Syncing both wrote every byte to disk twice.
    const partialPath = hiddenSibling(this.finalPath, 'partial');
    trackTemporary(partialPath);
    try {
      const bytes = head.size === 0 ? await this.bodyAsWhole(partialPath) : await this.assembled(partialPath, head);
      if (check) await check(partialPath);
      const path = await publishFile(partialPath, this.finalPath, this.uniqueName);
      untrackTemporary(partialPath);
      if (record) await publishRecord(path, record);
      return { path, bytes };
    } catch (error) {
      await removeTemporary(partialPath);
      throw error;
    }
  }

  async discard(): Promise<void> {
    await this.body.close().catch(() => undefined);
    await removeTemporary(this.bodyPath);
  }

  private async assembled(partialPath: string, head: ArchiveHead): Promise<number> {
    await this.body.close();
    const bytes = await assemble(partialPath, head, this.bodyPath);
    await removeTemporary(this.bodyPath);
    return bytes;
  }

  /** Nothing goes in front (an encrypted archive is its body): the body file itself becomes the partial one, not a copy. */
  private async bodyAsWhole(partialPath: string): Promise<number> {
    await this.body.sync();
    const { size } = await this.body.stat();
    await this.body.close();
    await rename(this.bodyPath, partialPath);
    untrackTemporary(this.bodyPath);
    return size;
  }
}

async function assemble(partialPath: string, head: ArchiveHead, bodyPath: string): Promise<number> {
  const handle = await open(partialPath, 'wx', PRIVATE);
  try {
    for await (const chunk of head.open() as AsyncIterable<Buffer>) await writeAll(handle, chunk);
    await copyThrough(bodyPath, (chunk) => writeAll(handle, chunk));
    await handle.sync();
    return (await handle.stat()).size;
  } finally {
    await handle.close();
  }
}

/** `.<name>.<role>-<pid>-<random>`: the pid lets a later run tell a dead run's leftovers. */
function hiddenSibling(finalPath: string, role: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.${role}-${ownedSuffix()}`);
}

/**
 * The hidden files of backups whose process is gone (killed with SIGKILL, or the machine
 * stopped), removed when the next backup opens: they hold secrets and would otherwise stay forever.
 */
const LEFTOVER = ownedName('\\..+\\.(?:body|spool|index|indexes|head|partial|record)-');

/**
 * The record beside the published archive: written hidden, then renamed to its name (replacing
 * a stale record of an archive of that name removed by hand). Without its record the archive
 * is not published either: it is removed again and the failure thrown.
 */
async function publishRecord(archivePath: string, record: ArchiveRecord): Promise<void> {
  const hiddenPath = hiddenSibling(archivePath, 'record');
  trackTemporary(hiddenPath);
  try {
    const handle = await open(hiddenPath, 'wx', PRIVATE);
    try {
      await writeAll(handle, Buffer.from(recordText(basename(archivePath), record)));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(hiddenPath, recordNameOf(archivePath));
    untrackTemporary(hiddenPath);
  } catch (error) {
    await removeTemporary(hiddenPath);
    await unlink(archivePath).catch(() => undefined);
    throw error;
  }
}

/** Hard-links into place so an existing archive is never replaced, then drops the hidden name. */
async function publishFile(partialPath: string, finalPath: string, uniqueName: boolean): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    const candidate = numberedArchiveName(finalPath, attempt);
    try {
      await link(partialPath, candidate);
      await unlink(partialPath);
      return candidate;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && uniqueName && attempt < 100) continue;
      if (code === 'EEXIST') throw new RuntimeError(`${finalPath} already exists; nothing was overwritten.`);
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') {
        // A filesystem without hard links: a copy that fails if the name exists (rename would replace it).
        try {
          await copyFile(partialPath, candidate, constants.COPYFILE_EXCL);
        } catch (copyError) {
          if ((copyError as NodeJS.ErrnoException).code === 'EEXIST' && uniqueName && attempt < 100) continue;
          if ((copyError as NodeJS.ErrnoException).code === 'EEXIST')
            throw new RuntimeError(`${finalPath} already exists; nothing was overwritten.`);
          throw copyError;
        }
        await unlink(partialPath);
        return candidate;
      }
      throw error;
    }
  }
}
