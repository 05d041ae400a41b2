import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AbortedError, describeError, RuntimeError } from '../../src/base/errors.js';
import { copyStopped, KeptFiles } from '../../src/components/redis/containerRestore.js';
import type { ContainerRedisPlan } from '../../src/components/redis/containerPlan.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import type { MoveAsideFolder } from '../../src/core/moveAside.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

/**
 * The put-back of Redis's files in its container after a failed copy, against an engine that
 * holds only the files a test gives it: the error says the true state, including a file that did
 * not exist before the copy (a put-back cannot remove what the copy wrote there).
 */
function engine(existing: readonly string[]) {
  const putBack: string[] = [];
  const docker = {
    getArchive: async (_container: string, path: string) =>
      existing.includes(path) ? Readable.from([Buffer.from(`tar of ${path}`)]) : undefined,
    putArchive: async (_container: string, _folder: string, tar: Readable) => {
      const chunks: Buffer[] = [];
      for await (const chunk of tar) chunks.push(chunk as Buffer);
      putBack.push(Buffer.concat(chunks).toString());
    },
  } as unknown as DockerEngine;
  return { docker, putBack };
}

async function asideFolder(): Promise<MoveAsideFolder> {
  const root = await temporaryFolder('okb-redis-kept-');
  const pathFor = async (...segments: string[]) => {
    const path = join(root, ...segments);
    await mkdir(dirname(path), { recursive: true });
    return path;
  };
  return { pathFor } as unknown as MoveAsideFolder;
}

const plan = (appendonly: boolean) =>
  ({
    transport: 'container',
    container: 'redis',
    live: { dir: '/data', dbfilename: 'dump.rdb', appenddirname: 'appendonlydir', appendfilename: 'appendonly.aof', appendonly },
    backupAppendfilename: 'appendonly.aof',
    hasAof: false,
  }) as unknown as ContainerRedisPlan;

const diskFull = { interrupted: false, error: new RuntimeError('copying into /data of redis failed: disk full'), again: undefined };

describe('the Redis container put-back after a failed copy', () => {
  it('says the previous files were put back and Redis starts on them, when every file the copy writes existed before', async () => {
    const { docker, putBack } = engine(['/data/dump.rdb', '/data/appendonlydir']);
    const kept = await KeptFiles.take(docker, plan(true), await asideFolder(), new AbortController().signal);
    await kept.putBack(docker, plan(true));
    expect(putBack).toEqual(['tar of /data/dump.rdb', 'tar of /data/appendonlydir']);
    const message = describeError(copyStopped(plan(true), kept, diskFull));
    expect(message).toContain('the previous files were put back and it is started on them.');
  });

  it('a dump.rdb that did not exist before is said to stay as the copy left it, never that Redis starts on its previous files', async () => {
    const { docker, putBack } = engine([]);
    const kept = await KeptFiles.take(docker, plan(false), await asideFolder(), new AbortController().signal);
    await kept.putBack(docker, plan(false));
    expect(putBack).toEqual([]);
    const error = copyStopped(plan(false), kept, diskFull);
    const message = describeError(error);
    expect(message).not.toContain('started on them');
    expect(message).toContain('/data/dump.rdb did not exist before: whatever the copy wrote there stays, and Redis may not load it.');
    expect(message).not.toContain('appendonlydir'); // with appendonly off, the copy writes no AOF
    expect(message).toContain('If Redis does not start, remove /data/dump.rdb from redis');
    const interrupted = copyStopped(plan(false), kept, { ...diskFull, interrupted: true });
    expect(interrupted).toBeInstanceOf(AbortedError);
  });
});
