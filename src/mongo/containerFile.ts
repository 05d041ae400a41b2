import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isProcessAlive } from '../base/processes.js';
import { packTar } from '../archive/tarPack.js';
import type { DockerEngine } from '../docker/engine.js';

/** The files this tool puts into a container's /tmp: `.orkestra-backup-<host>-<pid>-<random><extension>`. */
const PREFIX = '.orkestra-backup-';

/** This host's name as it goes into a file name: what tells this host's files from another's that shares the container. */
const HOST = hostname().replace(/[^A-Za-z0-9]/g, '_') || 'host';

/** A file of this host's: the pid of the process that wrote it is the first group. */
const OWN_FILE = new RegExp(`^\\.orkestra-backup-${HOST}-(\\d+)-[0-9a-f]+\\.[a-z]+$`);

/** Containers whose dead files this process has already removed: once a run is enough. */
const swept = new Set<string>();

/**
 * Puts a 0600 file (a password, a script with a login) into the container's /tmp, runs `work`
 * with its path, and removes it whatever happens. A run killed outright leaves its file: the
 * name carries the host and the pid of the process that wrote it, and the next run on this host
 * removes those whose process is gone (a concurrent run's file stays, as does another host's).
 */
export async function withContainerFile<T>(
  docker: DockerEngine,
  container: string,
  file: { readonly extension: string; readonly content: string },
  work: (path: string) => Promise<T>,
): Promise<T> {
  await removeDeadFiles(docker, container);
  const name = `${PREFIX}${HOST}-${process.pid}-${randomBytes(6).toString('hex')}${file.extension}`;
  const content = Buffer.from(file.content);
  await docker.putArchive(
    container,
    '/tmp',
    packTar([{ type: 'file', path: name, size: content.length, content: [content], mode: 0o600 }]),
  );
  try {
    return await work(`/tmp/${name}`);
  } finally {
    await docker.exec(container, ['rm', '-f', `/tmp/${name}`]).catch(() => undefined);
  }
}

/** The files in the container's /tmp that runs of this tool on this host left when they were killed. */
async function removeDeadFiles(docker: DockerEngine, container: string): Promise<void> {
  if (swept.has(container)) return;
  const listed = await docker.exec(container, ['ls', '-a', '/tmp']).catch(() => undefined);
  if (!listed || listed.exitCode !== 0) return;
  swept.add(container);
  const dead = listed.stdout
    .split('\n')
    .map((name) => name.trim())
    .filter((name) => {
      const match = OWN_FILE.exec(name);
      return match !== null && !isProcessAlive(Number(match[1]));
    })
    .map((name) => `/tmp/${name}`);
  if (dead.length > 0) await docker.exec(container, ['rm', '-f', ...dead]).catch(() => undefined);
}
