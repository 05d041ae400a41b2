import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AbortedError, describeError, RuntimeError } from '../../src/base/errors.js';
import { emptyingFailure, withVolumeKept, type FolderEngine } from '../../src/components/volume/keptFolder.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

/**
 * The put-back around a restore into a container's folder, against an engine that records what
 * it is asked and fails where a test says: every failure after the first change says which state
 * the folder is in and where the kept copy is.
 */
function engine(fails: { emptying?: boolean; copyBack?: boolean } = {}) {
  const calls: string[] = [];
  const copied: string[] = [];
  const docker: FolderEngine = {
    stop: async (name) => void calls.push(`stop ${name}`),
    start: async (name) => void calls.push(`start ${name}`),
    getArchive: async () => Readable.from([Buffer.from('the folder as it was')]),
    putArchive: async (_name, _folder, tar) => {
      const chunks: Buffer[] = [];
      for await (const chunk of tar) chunks.push(chunk as Buffer);
      copied.push(Buffer.concat(chunks).toString());
      calls.push('copy in');
      if (fails.copyBack) throw new RuntimeError('copying into /srv/graph of app failed: engine gone');
    },
    runWithVolumesOf: async () => {
      calls.push('empty');
      return fails.emptying ? { exitCode: 1, log: 'rm: read-only file system' } : { exitCode: 0, log: '' };
    },
  };
  return { docker, calls, copied };
}

async function folder(canEmpty = true) {
  const path = join(await temporaryFolder('okb-volume-kept-'), 'app.tar');
  const kept = { path, shown: 'docker/.pre-restore-20260101-000000/graph/app.tar' };
  return { target: { container: 'app', path: '/srv/graph', running: true }, image: 'img', canEmpty, kept };
}

const context = (signal = new AbortController().signal) => ({ progress: { note: () => undefined }, signal });
const failingCopy = () => Promise.reject(new RuntimeError('copying into /srv/graph of app failed: disk full'));

async function failure(run: Promise<void>): Promise<Error> {
  return run.then(
    () => {
      throw new Error('the restore did not fail');
    },
    (error: Error) => error,
  );
}

describe('a volume restore that fails after its first change', () => {
  it('keeps the folder before the change; on a failed copy empties it, copies the kept content back and says so, container started again', async () => {
    const { docker, calls, copied } = engine();
    const kept = await folder();
    const error = await failure(withVolumeKept(docker, kept, context(), failingCopy));
    expect(await readFile(kept.kept.path, 'utf8')).toBe('the folder as it was');
    expect(calls).toEqual(['stop app', 'empty', 'copy in', 'start app']);
    expect(copied).toEqual(['the folder as it was']);
    expect(describeError(error)).toBe(
      'the restore into app:/srv/graph stopped (copying into /srv/graph of app failed: disk full); the previous content was put back, so the folder holds what it held before. It is also kept in docker/.pre-restore-20260101-000000/graph/app.tar.',
    );
  });

  it('emptying the folder to put it back fails: the error says the folder is not as it was and where the kept copy is; nothing is copied over it', async () => {
    const { docker, calls } = engine({ emptying: true });
    const kept = await folder();
    const message = describeError(await failure(withVolumeKept(docker, kept, context(), failingCopy)));
    expect(calls).toEqual(['stop app', 'empty', 'start app']);
    expect(message).toContain(
      "emptying /srv/graph to put the previous content back failed too (rm: read-only file system): the folder is not as it was (partly emptied, or holding part of the backup's content).",
    );
    expect(message).toContain(`The previous content is kept in ${kept.kept.path}`);
    expect(message).not.toContain('holds what it held before');
  });

  it('a whole restore whose own emptying fails: the error never says the folder holds backup content, since none was copied', async () => {
    const { docker, calls, copied } = engine({ emptying: true });
    const kept = await folder();
    const wholeRestore = async () => {
      const failed = await emptyingFailure(docker, kept);
      if (failed !== undefined) throw new RuntimeError(`emptying /srv/graph of app failed: ${failed}`);
      await docker.putArchive('app', '/srv/graph', Readable.from([Buffer.from('the backup')]));
    };
    const message = describeError(await failure(withVolumeKept(docker, kept, context(), wholeRestore)));
    expect(calls).toEqual(['stop app', 'empty', 'empty', 'start app']);
    expect(copied).toEqual([]);
    expect(message).not.toContain("holds part of the backup's content");
    expect(message).toContain('the folder is not as it was (partly emptied');
    expect(message).toContain(`The previous content is kept in ${kept.kept.path}`);
  });

  it('copying the kept content back fails: the error says the folder is left emptied or partly put back, and where the kept copy is', async () => {
    const { docker, calls } = engine({ copyBack: true });
    const kept = await folder();
    const message = describeError(await failure(withVolumeKept(docker, kept, context(), failingCopy)));
    expect(calls).toEqual(['stop app', 'empty', 'copy in', 'start app']);
    expect(message).toContain(
      'and putting the previous content back failed too (copying into /srv/graph of app failed: engine gone): the folder is left emptied or partly put back.',
    );
    expect(message).toContain(`The previous content is kept in ${kept.kept.path}`);
  });

  it('a folder that cannot be emptied gets its kept content copied back over it, and the error says files the copy added stay', async () => {
    const { docker, calls } = engine();
    const message = describeError(await failure(withVolumeKept(docker, await folder(false), context(), failingCopy)));
    expect(calls).toEqual(['stop app', 'copy in', 'start app']);
    expect(message).toContain('the previous content was copied back over it, so its files are as before, but files the copy added stay');
  });

  it('interrupted while the folder is kept: no change is made, nothing is put back, and the error says nothing was changed', async () => {
    const { docker, calls } = engine();
    const interrupt = new AbortController();
    interrupt.abort();
    let changed = false;
    const error = await failure(
      withVolumeKept(docker, await folder(), context(interrupt.signal), async () => {
        changed = true;
      }),
    );
    expect(changed).toBe(false);
    expect(calls).toEqual(['stop app', 'start app']);
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.message).toBe('the restore into app:/srv/graph was interrupted before its first change; nothing was changed.');
  });
});
