import { mkdtemp, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { tarStreamEntries } from '../archive/tarStream.js';
import { PrivateSpool } from '../archive/privateSpool.js';
import { writeAll } from '../archive/writeAll.js';
import { RuntimeError } from '../base/errors.js';
import { removeTemporary, trackTemporary } from '../base/temporaryFiles.js';
import type { DockerEngine } from '../docker/engine.js';
import type { RedisCli } from './cli.js';
import { aofDirPath, type RedisLayout } from './layout.js';
import { noRewriteRunning } from './snapshot.js';

/** Copies of an AOF folder that may overlap a rewrite before the backup gives up. */
const AOF_COPY_ATTEMPTS = 5;

/**
 * Copies the AOF folder out so that no rewrite happened during the copy: the folder is spooled
 * to a private temp file, then compared against `aof_rewrites` before and after. Returns the file count.
 */
export async function copyAofFolder(
  cli: RedisCli,
  docker: DockerEngine,
  layout: RedisLayout,
  signal: AbortSignal,
  add: (path: string, size: number, content: Readable) => Promise<void>,
): Promise<number> {
  const spoolDir = await mkdtemp(join(tmpdir(), 'orkestra-redis-aof-'));
  trackTemporary(spoolDir); // removed also when a signal ends the process mid-copy
  try {
    for (let attempt = 1; attempt <= AOF_COPY_ATTEMPTS; attempt += 1) {
      const before = await noRewriteRunning(cli, signal);
      // Private: the AOF is the data itself, and an encrypted backup leaves no plaintext on disk.
      const spool = await PrivateSpool.create(join(spoolDir, `aof-${attempt}.tar`));
      const copied = await copyFolder(docker, cli.container, aofDirPath(layout), (chunk) => spool.write(chunk));
      await spool.close();
      if (!copied) return 0;
      const after = await cli.persistence();
      if (after.aof_rewrite_in_progress !== '1' && after.aof_rewrites === before.aof_rewrites) {
        let count = 0;
        for await (const entry of tarStreamEntries(spool.stream(), { compressed: false })) {
          if (entry.type !== 'File' && entry.type !== 'OldFile') continue;
          const inside = entry.path.split('/').slice(1).join('/');
          if (!inside) continue;
          await add(inside, entry.size, Readable.fromWeb(entry.body));
          count += 1;
        }
        return count;
      }
      await spool.remove();
    }
    throw new RuntimeError(`the AOF of ${cli.container} was rewritten during every copy attempt.`, {
      hint: 'Run the backup again when Redis is less busy.',
    });
  } finally {
    await removeTemporary(spoolDir);
  }
}

/** Copies a path of a container into a private tar file; false when the path does not exist. */
export async function spoolFolder(docker: DockerEngine, container: string, path: string, spool: string): Promise<boolean> {
  const handle = await open(spool, 'w', 0o600);
  try {
    return await copyFolder(docker, container, path, (chunk) => writeAll(handle, chunk));
  } finally {
    await handle.close();
  }
}

async function copyFolder(
  docker: DockerEngine,
  container: string,
  path: string,
  write: (chunk: Buffer) => Promise<void>,
): Promise<boolean> {
  const stream = await docker.getArchive(container, path);
  if (!stream) return false;
  for await (const chunk of stream) await write(chunk as Buffer);
  return true;
}

/** Streams one file out of a container; returns its size, or undefined when it does not exist. */
export async function copyOut(
  docker: DockerEngine,
  container: string,
  path: string,
  consume: (entry: { size: number; content: Readable }) => Promise<void>,
): Promise<number | undefined> {
  const stream = await docker.getArchive(container, path);
  if (!stream) return undefined;
  for await (const entry of tarStreamEntries(stream, { compressed: false })) {
    if (entry.type !== 'File' && entry.type !== 'OldFile') continue;
    await consume({ size: entry.size, content: Readable.fromWeb(entry.body) });
    return entry.size;
  }
  return undefined;
}
