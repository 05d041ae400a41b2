import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import type { PackEntry } from '../../archive/tarPack.js';
import { delay } from '../../base/concurrency.js';
import { AbortedError, type OrkestraError, PreconditionError, RuntimeError } from '../../base/errors.js';
import { firstLine, plural, withoutFinalPeriod } from '../../base/format.js';
import type { ComponentSource } from '../../archive/componentSource.js';
import { critical } from '../../base/criticalSection.js';
import type { MoveAsideFolder } from '../../core/moveAside.js';
import { countedAsProgress } from '../../model/progress.js';
import type { Project } from '../../model/project.js';
import type { DockerEngine } from '../../docker/engine.js';
import { RDB_ENTRY } from '../../redis/archivedRdb.js';
import { spoolFolder } from '../../redis/copyOut.js';
import { countKeys } from '../../redis/keyspace.js';
import { aofDirPath, baseOnlyAofManifest, rdbPath } from '../../redis/layout.js';
import { connectRedis } from '../../redis/projectRedis.js';
import type { ContainerRedisPlan } from './containerPlan.js';
import { AOF_FOLDER } from './files.js';

/** How long a restarted Redis may take to load its dataset. */
const LOAD_TIMEOUT_MS = 5 * 60_000;

/**
 * The files a restore replaces, copied out of the stopped container first into the restore's
 * move-aside folder on the host (`docker/.pre-restore-<stamp>/redis/<container>/`, as the tar
 * files `docker cp` writes), and put back from there if the copy of the new files fails.
 * (Piping a container's getArchive straight into its own putArchive deadlocks in the engine
 * once the files outgrow the socket buffers, so the copy goes through the host anyway.)
 */
export class KeptFiles {
  private constructor(
    private readonly tars: readonly string[],
    /** The container's paths that did not exist before the copy: a put-back cannot remove what the copy wrote there. */
    readonly absent: readonly string[],
  ) {}

  /** Where the kept files are, for messages. */
  get folder(): string {
    return this.tars.length > 0 ? posix.dirname(this.tars[0]) : 'the move-aside folder';
  }

  static async take(docker: DockerEngine, plan: ContainerRedisPlan, aside: MoveAsideFolder, signal: AbortSignal): Promise<KeptFiles> {
    const tars: string[] = [];
    const absent: string[] = [];
    for (const path of [rdbPath(plan.live), aofDirPath(plan.live)]) {
      signal.throwIfAborted();
      const tar = await aside.pathFor('redis', plan.container, `${posix.basename(path)}.tar`);
      if (await spoolFolder(docker, plan.container, path, tar)) tars.push(tar);
      else if (path === rdbPath(plan.live) || plan.live.appendonly) absent.push(path); // the AOF folder is written only with appendonly
    }
    return new KeptFiles(tars, absent);
  }

  /** Undoes a half-done copy, so the container starts on its previous data rather than on a torn file. */
  async putBack(docker: DockerEngine, plan: ContainerRedisPlan): Promise<void> {
    for (const tar of this.tars) await docker.putArchive(plan.container, plan.live.dir, createReadStream(tar));
  }
}

/**
 * The copy of the restored files failed or was interrupted once the previous ones were kept, and
 * they were put back (or that failed too, `again`): the error says which, and where they are kept.
 */
export function copyStopped(
  plan: ContainerRedisPlan,
  kept: KeptFiles,
  how: { interrupted: boolean; error: unknown; again: unknown },
): OrkestraError {
  const stopped = how.interrupted ? 'was interrupted' : `stopped (${withoutFinalPeriod(firstLine(String((how.error as Error).message)))})`;
  const copy = `the copy of the restored files into ${plan.container} ${stopped}`;
  if (how.again !== undefined) {
    return new RuntimeError(
      `${copy}, and putting the previous files back failed too (${withoutFinalPeriod(firstLine(String((how.again as Error).message)))}): ${plan.live.dir} in ${plan.container} may hold part of the restored files.`,
      {
        hint: `The previous files are kept in ${kept.folder} (tar files, as docker cp writes them: docker cp - ${plan.container}:${plan.live.dir} < each puts it back).`,
      },
    );
  }
  const absent = kept.absent.join(' and ');
  const message =
    kept.absent.length === 0
      ? `${copy}; the previous files were put back and it is started on them.`
      : `${copy}; the previous files were put back and it is started again, but ${absent} did not exist before: whatever the copy wrote there stays, and Redis may not load it.`;
  const hint =
    kept.absent.length === 0
      ? `They are also kept in ${kept.folder}.`
      : `If Redis does not start, remove ${absent} from ${plan.container}, or run the restore again. The previous files are kept in ${kept.folder}.`;
  return how.interrupted ? new AbortedError(message, { hint }) : new RuntimeError(message, { hint });
}

export async function* restoreEntries(
  source: ComponentSource,
  plan: ContainerRedisPlan,
  progress: { advance(bytes: number): void },
): AsyncGenerator<PackEntry> {
  const aofWanted = plan.live.appendonly && plan.hasAof;
  if (aofWanted) yield { type: 'directory', path: plan.live.appenddirname, mode: 0o755 };
  for await (const entry of source.entries()) {
    const counted = countedAsProgress(entry.content, progress);
    if (entry.path === RDB_ENTRY) {
      yield { type: 'file', path: plan.live.dbfilename, size: entry.size, content: counted };
    } else if (aofWanted && entry.path.startsWith(`${AOF_FOLDER}/`)) {
      let name = entry.path.slice(AOF_FOLDER.length + 1);
      // Redis reads `<appendfilename>.manifest`; the files it lists keep their names.
      if (name === `${plan.backupAppendfilename}.manifest`) name = `${plan.live.appendfilename}.manifest`;
      yield { type: 'file', path: `${plan.live.appenddirname}/${name}`, size: entry.size, content: counted };
    }
  }
}

/** With appendonly on and no AOF in the backup, the RDB becomes the base of a fresh AOF. */
export async function* synthesizedAof(source: ComponentSource, plan: ContainerRedisPlan): AsyncGenerator<PackEntry> {
  const base = `${plan.live.appendfilename}.1.base.rdb`;
  const manifest = Buffer.from(baseOnlyAofManifest(base));
  yield { type: 'directory', path: plan.live.appenddirname, mode: 0o755 };
  for await (const entry of source.entries()) {
    if (entry.path !== RDB_ENTRY) continue;
    yield { type: 'file', path: `${plan.live.appenddirname}/${base}`, size: entry.size, content: entry.content };
  }
  yield {
    type: 'file',
    path: `${plan.live.appenddirname}/${plan.live.appendfilename}.manifest`,
    size: manifest.length,
    content: [manifest],
  };
}

/**
 * After the start, Redis answers LOADING until the dataset is in memory; then it is counted. A
 * server that exits (or restarts) instead, or never stops loading, did not take the files: the
 * reason is returned, with the last lines of its log, for the caller to roll back.
 */
export async function waitUntilLoaded(project: Project, docker: DockerEngine, container: string): Promise<number | { reason: string }> {
  const deadline = Date.now() + LOAD_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    const state = await docker.container(container);
    if (!state?.running || state.status === 'restarting') {
      const log = await docker.logTail(container, 3).catch(() => '');
      return { reason: `it ${state?.status ?? 'vanished'} instead of loading them${log ? ` (log: ${log})` : ''}` };
    }
    try {
      const cli = await connectRedis(project, docker);
      await cli.run('DBSIZE'); // answers LOADING until the files are loaded, where INFO already answers
      return await countKeys(cli);
    } catch (error) {
      if (error instanceof PreconditionError && !/not running|no container/.test(error.message)) throw error;
      last = error;
      await delay(200);
    }
  }
  return { reason: `it did not finish loading them within ${LOAD_TIMEOUT_MS / 60_000} minutes: ${firstLine(String(last))}` };
}

/**
 * Redis did not come up on the restored files: the files kept before the copy go back, the
 * server is started on them, and the error says so — Redis is never left down.
 */
export async function rollBack(
  project: Project,
  docker: DockerEngine,
  plan: ContainerRedisPlan,
  kept: KeptFiles,
  failure: { reason: string },
  progress: { note(message: string): void },
): Promise<never> {
  progress.note(`Redis did not load the restored files; putting the previous files back`);
  const restarted = await critical(`starting ${plan.container} on its previous files`, async () => {
    await docker.stop(plan.container);
    try {
      await kept.putBack(docker, plan);
    } finally {
      await docker.start(plan.container);
    }
    return waitUntilLoaded(project, docker, plan.container);
  });
  const what = `Redis in ${plan.container} did not load the restored files: ${failure.reason}.`;
  if (typeof restarted === 'number') {
    throw new RuntimeError(`${what} The previous files were put back and it runs again on them (${plural(restarted, 'key')}).`, {
      hint: `The restored files are in the archive; the previous ones stay in ${kept.folder}.`,
    });
  }
  throw new RuntimeError(`${what} Putting the previous files back did not bring it up either: ${restarted.reason}.`, {
    hint: `The previous files are in ${kept.folder} (tar files, as docker cp writes them).`,
  });
}
