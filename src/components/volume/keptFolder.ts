import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { AbortedError, type OrkestraError, RuntimeError } from '../../base/errors.js';
import { withoutFinalPeriod } from '../../base/format.js';
import { critical } from '../../base/criticalSection.js';
import type { DockerEngine } from '../../docker/engine.js';
import type { Target } from './target.js';

/** Empties the folder given as $0, hidden files included, leaving the folder itself. */
const EMPTY_FOLDER = 'cd "$0" && rm -rf -- * .[!.]* ..?*';

/** What a restore into a container's folder needs of the engine. */
export type FolderEngine = Pick<DockerEngine, 'stop' | 'start' | 'getArchive' | 'putArchive' | 'runWithVolumesOf'>;

export interface KeptFolder {
  readonly target: Pick<Target, 'container' | 'path' | 'running'>;
  /** The image of the one-off container that empties the folder. */
  readonly image: string;
  /** Whether the folder can be emptied before the kept content goes back (see `insideAVolume`, `hasShell`). */
  readonly canEmpty: boolean;
  /** The tar file the folder is kept in, and how messages show it. */
  readonly kept: { readonly path: string; readonly shown: string };
}

/**
 * With the container stopped: its folder kept whole as a tar file, then `change` run. When the
 * change fails or is interrupted, the folder is emptied (when it can be) and the kept content put
 * back. The container is started again whatever happens. Every failure says which state the
 * folder is in (as it was, put back, or neither) and where the kept copy is.
 */
export async function withVolumeKept(
  docker: FolderEngine,
  folder: KeptFolder,
  { progress, signal }: { progress: { note(message: string): void }; signal: AbortSignal },
  change: () => Promise<void>,
): Promise<void> {
  const { container, path, running } = folder.target;
  const failure = await critical(`starting ${container} again`, async () => {
    if (running) {
      progress.note(`stopping ${container}`);
      await docker.stop(container);
    }
    try {
      try {
        const current = await docker.getArchive(container, `${path}/.`);
        if (current) await pipeline(current, createWriteStream(folder.kept.path, { mode: 0o600 }));
        signal.throwIfAborted();
      } catch (error) {
        return unchanged(folder, signal.aborted, error);
      }
      try {
        await change();
        return undefined;
      } catch (error) {
        progress.note('copy stopped; putting the previous content back');
        return await putBack(docker, folder, signal.aborted, error);
      }
    } finally {
      if (running) {
        progress.note(`starting ${container}`);
        await docker.start(container);
      }
    }
  });
  if (failure) throw failure;
}

/** Empties the folder with a one-off container of `image` that mounts the container's volumes; why it failed, if it did. */
export async function emptyingFailure(
  docker: FolderEngine,
  { target, image }: Pick<KeptFolder, 'target' | 'image'>,
): Promise<string | undefined> {
  const emptied = await docker
    .runWithVolumesOf(target.container, image, ['/bin/sh', '-c', EMPTY_FOLDER, target.path])
    .catch((error: Error) => ({ exitCode: -1, log: error.message }));
  return emptied.exitCode === 0 ? undefined : emptied.log || `exit ${emptied.exitCode}`;
}

function stopped(interrupted: boolean, error: unknown): string {
  return interrupted ? 'was interrupted' : `stopped (${withoutFinalPeriod(error instanceof Error ? error.message : String(error))})`;
}

/** Stopped before the first change: the folder is as it was. */
function unchanged({ target, kept }: KeptFolder, interrupted: boolean, error: unknown): OrkestraError {
  const message = `the restore into ${target.container}:${target.path} ${stopped(interrupted, error)} before its first change; nothing was changed.`;
  const hint = `Its content may be partly kept in ${kept.shown}.`;
  return interrupted ? new AbortedError(message, { hint }) : new RuntimeError(message, { hint });
}

/** The folder emptied (when it can be) and the kept tar copied back in, with its owners; the error says how it ended. */
async function putBack(docker: FolderEngine, folder: KeptFolder, interrupted: boolean, error: unknown): Promise<OrkestraError> {
  const { target, kept, canEmpty } = folder;
  const restore = `the restore into ${target.container}:${target.path} ${stopped(interrupted, error)}`;
  const byHand = `The previous content is kept in ${kept.path} (a tar file, as docker cp writes it): empty ${target.path} in ${target.container}, then docker cp -a - ${target.container}:${target.path} < that file puts it back with its owners.`;
  if (canEmpty) {
    const failed = await emptyingFailure(docker, folder);
    if (failed !== undefined) {
      const why = withoutFinalPeriod(failed);
      return new RuntimeError(
        `${restore}, and emptying ${target.path} to put the previous content back failed too (${why}): the folder is not as it was (partly emptied, or holding part of the backup's content).`,
        { hint: byHand },
      );
    }
  }
  try {
    await docker.putArchive(target.container, target.path, createReadStream(kept.path), undefined, { keepOwners: true });
  } catch (again) {
    const left = canEmpty
      ? 'the folder is left emptied or partly put back'
      : "the folder holds part of the backup's content and is not as it was";
    return new RuntimeError(
      `${restore}, and putting the previous content back failed too (${withoutFinalPeriod((again as Error).message)}): ${left}.`,
      { hint: byHand },
    );
  }
  const message = canEmpty
    ? `${restore}; the previous content was put back, so the folder holds what it held before.`
    : `${restore}; the previous content was copied back over it, so its files are as before, but files the copy added stay (the folder cannot be emptied).`;
  const hint = `It is also kept in ${kept.shown}.`;
  return interrupted ? new AbortedError(message, { hint }) : new RuntimeError(message, { hint });
}
