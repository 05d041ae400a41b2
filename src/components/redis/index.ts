import { countedAsProgress } from '../../core/progress.js';
import { smallFileList } from '../../core/smallFileList.js';
import type { IndexedFile } from '../../archive/fileIndex.js';
import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import { z } from 'zod';
import { packTar, type PackEntry } from '../../archive/tarPack.js';
import type { Component, ComponentSource, RestorePlan } from '../../core/component.js';
import { PreconditionError, RuntimeError, UsageError } from '../../base/errors.js';
import { readDetails } from '../../core/details.js';
import { firstLine, formatBytes, plural } from '../../base/format.js';
import type { MoveAsideFolder } from '../../core/moveAside.js';
import type { Project } from '../../core/project.js';
import { critical } from '../../core/criticalSection.js';
import { containerAvailability } from '../../docker/containers.js';
import type { DockerEngine } from '../../docker/engine.js';
import { aofDirPath, baseOnlyAofManifest, formatLayout, parseLayout, rdbPath, type RedisLayout } from '../../redis/layout.js';
import { aofManifestFiles, checkRdb } from '../../redis/rdb.js';
import type { RdbCheck } from '../../redis/rdbChecker.js';
import { connectRedis, REDIS_DEFAULT_CONTAINER } from '../../redis/projectRedis.js';
import { redisDrill } from './drill.js';
import { checkArchivedRdb, RDB_ENTRY } from '../../redis/archivedRdb.js';
import {
  onlineAvailability,
  onlineBackup,
  onlinePlan,
  onlineRestore,
  redisUrl,
  type OnlineRedisPlan,
} from '../../redis/onlineTransport.js';
import { freshSnapshot } from '../../redis/snapshot.js';
import { stopForRestore } from '../../redis/shutdown.js';
import { copyAofFolder, copyOut, spoolFolder } from '../../redis/copyOut.js';
import { delay } from '../../base/concurrency.js';

const DEFAULT_CONTAINER = REDIS_DEFAULT_CONTAINER;
const AOF_FOLDER = 'appendonlydir';
const LAYOUT_ENTRY = 'redis-layout.txt';
/** An AOF manifest names a few files per line; anything this big is not one. */
const MAX_AOF_MANIFEST_BYTES = 1 << 20;
/** How long a restarted Redis may take to load its dataset. */
const LOAD_TIMEOUT_MS = 5 * 60_000;

const RedisDetailsSchema = z.union([
  z.object({
    layout: z.object({
      dir: z.string(),
      dbfilename: z.string(),
      appenddirname: z.string(),
      appendfilename: z.string(),
      appendonly: z.boolean(),
    }),
  }),
  // Through REDIS_URL (replication): no layout, the server's files were never seen.
  z.object({ transport: z.literal('replication'), server: z.string() }),
]);

interface ContainerRedisPlan extends RestorePlan {
  readonly transport: 'container';
  readonly container: string;
  readonly live: RedisLayout;
  readonly backupAppendfilename: string;
  readonly hasAof: boolean;
}

type RedisPlan = ContainerRedisPlan | OnlineRedisPlan;

/**
 * Redis: a fresh BGSAVE snapshot and the AOF folder, copied out of the container through the
 * Docker archive API while no AOF rewrite runs; restored by stopping the container, putting the
 * files at the live layout's paths and starting it again (also when the copy fails).
 */
export const redis: Component<RedisPlan> = {
  name: 'redis',
  title: 'Redis',

  async availability({ project, services }) {
    const online = redisUrl((key) => project.setting(key), services.tuning.redisTimeoutMs);
    if (online) return onlineAvailability(online);
    return containerAvailability(services, project.containerName('redis', DEFAULT_CONTAINER));
  },

  async backup(context) {
    const { project, services, sink, progress, signal } = context;
    const online = redisUrl((key) => project.setting(key), services.tuning.redisTimeoutMs);
    if (online) return onlineBackup(online, context);
    const docker = services.docker();
    const cli = await connectRedis(project, docker);
    const layout = await cli.layout();
    progress.note(`layout: dir=${layout.dir}, dbfilename=${layout.dbfilename}, appendonly=${layout.appendonly ? 'yes' : 'no'}`);
    await sink.addText(LAYOUT_ENTRY, formatLayout(layout));
    progress.note('taking a fresh snapshot (BGSAVE)');
    await freshSnapshot(cli, signal);
    const rdbSize = await copyOut(docker, cli.container, rdbPath(layout), async (entry) => {
      await sink.addFile(RDB_ENTRY, entry.size, entry.content);
    });
    if (rdbSize === undefined) throw new RuntimeError(`${rdbPath(layout)} is missing in ${cli.container} after BGSAVE.`);
    const aofFiles = await copyAofFolder(cli, docker, layout, signal, async (path, size, content) => {
      await sink.addFile(`${AOF_FOLDER}/${path}`, size, content);
    });
    const keys = Number((await cli.run('DBSIZE')).trim()) || 0;
    return {
      details: { layout, keys, aofFiles },
      summary: `${plural(keys, 'key')}, RDB ${aofFiles > 0 ? `and ${plural(aofFiles, 'AOF file')}` : 'only'} from ${layout.dir}`,
    };
  },

  async planRestore(context) {
    const { project, services, source } = context;
    const online = redisUrl((key) => project.setting(key), services.tuning.redisTimeoutMs);
    if (online) return onlinePlan(online, context);
    const files = await smallFileList(source, 'redis');
    checkRedisFiles(source, files);
    const cli = await connectRedis(project, services.docker());
    const live = await cli.layout();
    const rdbSize = files.find((file) => file.path === RDB_ENTRY)?.size;
    const loadable = await checkArchivedRdb(cli, source, rdbSize);
    const backup = await backupLayout(source);
    const aofCount = files.filter((file) => file.path.startsWith(`${AOF_FOLDER}/`)).length;
    const hasAof = aofCount > 0;
    const actions = [
      `stop container ${cli.container}, copy the files below, start it again (also if the copy fails)` +
        (live.appendonly
          ? ' — stopped without the RDB snapshot of its save points when its AOF is healthy (the AOF holds every write)'
          : ''),
      `redis/${RDB_ENTRY} → ${cli.container}:${rdbPath(live)} (${loadable})`,
      `if Redis does not load the restored files, the previous ones are put back and it is started on them again`,
    ];
    const warnings: string[] = [];
    if (live.appendonly && hasAof) {
      actions.push(
        `redis/${AOF_FOLDER}/ (${plural(aofCount, 'file')}) → ${cli.container}:${aofDirPath(live)}/ (Redis loads this AOF at start)`,
      );
    } else if (live.appendonly) {
      actions.push(`${cli.container}:${aofDirPath(live)}/ gets a new AOF manifest whose base is the restored RDB (the backup has no AOF)`);
    } else if (hasAof) {
      warnings.push(`appendonly is off in ${cli.container}: it loads the RDB; the ${aofCount} AOF files of the backup are not copied`);
    }
    if (backup && backup.dir !== live.dir) {
      actions.push(`the backup came from dir=${backup.dir}; files go to the live dir=${live.dir}`);
    }
    actions.push(
      `current ${live.dbfilename} and ${live.appenddirname}/ are kept in docker/.pre-restore-<UTC stamp>/redis/${cli.container}/ (tar files, as docker cp writes them)`,
    );
    return {
      transport: 'container',
      actions,
      replaces: [`${cli.container}:${rdbPath(live)}`, ...(live.appendonly ? [`${cli.container}:${aofDirPath(live)}/`] : [])],
      warnings,
      container: cli.container,
      live,
      backupAppendfilename: backup?.appendfilename ?? 'appendonly.aof',
      hasAof,
    };
  },

  async restore(context, plan) {
    const { project, services, source, progress, signal, aside } = context;
    if (plan.transport === 'online')
      return onlineRestore(
        redisUrl((key) => project.setting(key), services.tuning.redisTimeoutMs)!,
        context,
        plan,
      );
    const docker = services.docker();
    const cli = await connectRedis(project, docker).catch(() => undefined); // stopped meanwhile: stopped as before
    let kept: KeptFiles | undefined;
    const copyError = await critical(`starting ${plan.container} again`, async () => {
      await stopForRestore(docker, plan.container, cli, (message) => progress.note(message));
      try {
        kept = await KeptFiles.take(docker, plan, aside, signal);
        signal.throwIfAborted();
        await docker.putArchive(plan.container, plan.live.dir, packTar(restoreEntries(source, plan, progress)), signal);
        if (plan.live.appendonly && !plan.hasAof) {
          await docker.putArchive(plan.container, plan.live.dir, packTar(synthesizedAof(source, plan)), signal);
        }
        return undefined;
      } catch (error) {
        if (kept) {
          progress.note(`copy stopped; putting the previous files back`);
          await kept.putBack(docker, plan).catch(() => undefined);
        }
        return error;
      } finally {
        progress.note(`starting ${plan.container}`);
        await docker.start(plan.container);
      }
    });
    if (copyError) throw copyError as Error;
    const loaded = await waitUntilLoaded(project, docker, plan.container);
    if (typeof loaded !== 'number') await rollBack(project, docker, plan, kept!, loaded, progress);
    const keys = loaded as number;
    return {
      summary: `${plural(keys, 'key')} loaded; previous files kept in docker/${posix.basename(aside.displayPath)}/redis/${plan.container}/`,
    };
  },

  async examine({ source }) {
    const layout = await backupLayout(source);
    const problems: string[] = [];
    // A backup through REDIS_URL has no layout: the server's files were never seen.
    const online = (source.details as { transport?: string } | undefined)?.transport === 'replication';
    if (!layout && !online) problems.push(`redis/${LAYOUT_ENTRY} is missing or unreadable`);
    const checks = new Map<string, RdbCheck>();
    let aofManifest: string | undefined;
    for await (const entry of source.entries()) {
      if (entry.path === RDB_ENTRY || /\.base\.rdb$/.test(entry.path)) {
        checks.set(entry.path, await checkRdb(entry.content, entry.size));
      } else if (entry.path.startsWith(`${AOF_FOLDER}/`) && entry.path.endsWith('.manifest')) {
        if (entry.size > MAX_AOF_MANIFEST_BYTES) {
          problems.push(`redis/${entry.path} is ${entry.size} bytes, not an AOF manifest (damaged or hostile archive)`);
          entry.content.resume();
          continue;
        }
        aofManifest = Buffer.concat((await entry.content.toArray()) as Buffer[]).toString('utf8');
      }
    }
    for (const [path, check] of checks) problems.push(...check.problems.map((problem) => `redis/${path}: ${problem}`));
    if (!checks.has(RDB_ENTRY)) problems.push(`redis/${RDB_ENTRY} is missing`);
    const files = await smallFileList(source, 'redis');
    const aofFiles = files.filter((file) => file.path.startsWith(`${AOF_FOLDER}/`));
    if (aofFiles.length > 0) {
      if (aofManifest === undefined) problems.push(`redis/${AOF_FOLDER}/ has no AOF manifest`);
      for (const named of aofManifestFiles(aofManifest ?? '')) {
        if (!aofFiles.some((file) => file.path === `${AOF_FOLDER}/${named.name}`)) {
          problems.push(`the AOF manifest names ${named.name}, which is not in the archive`);
        }
      }
    }
    const rdb = files.find((file) => file.path === RDB_ENTRY);
    const rdbCheck = checks.get(RDB_ENTRY);
    const lines = [
      layout
        ? `layout: dir=${layout.dir} dbfilename=${layout.dbfilename} appenddirname=${layout.appenddirname} appendonly=${layout.appendonly ? 'yes' : 'no'}`
        : 'layout: unknown',
      `${RDB_ENTRY} ${formatBytes(rdb?.size ?? 0)} (RDB version ${rdbCheck?.version ?? '?'}, checksum ${rdbCheck?.checksum ?? 'unchecked'})`,
      aofFiles.length > 0
        ? `${AOF_FOLDER}/: ${plural(aofFiles.length, 'file')}, ${formatBytes(aofFiles.reduce((total, file) => total + file.size, 0))}`
        : 'no AOF files',
    ];
    const facts = {
      layout,
      rdb: rdb ? { size: rdb.size, version: rdbCheck?.version, checksum: rdbCheck?.checksum } : undefined,
      aofFiles: aofFiles.map(({ path, size }) => ({ path, size })),
      keys: (source.details as { keys?: number } | undefined)?.keys,
    };
    return { facts, lines, problems };
  },

  drill: redisDrill,
};

/**
 * The files a restore replaces, copied out of the stopped container first into the restore's
 * move-aside folder on the host (`docker/.pre-restore-<stamp>/redis/<container>/`, as the tar
 * files `docker cp` writes), and put back from there if the copy of the new files fails.
 * (Piping a container's getArchive straight into its own putArchive deadlocks in the engine
 * once the files outgrow the socket buffers, so the copy goes through the host anyway.)
 */
class KeptFiles {
  private constructor(private readonly tars: readonly string[]) {}

  /** Where the kept files are, for messages. */
  get folder(): string {
    return this.tars.length > 0 ? posix.dirname(this.tars[0]) : 'the move-aside folder';
  }

  static async take(docker: DockerEngine, plan: ContainerRedisPlan, aside: MoveAsideFolder, signal: AbortSignal): Promise<KeptFiles> {
    const tars: string[] = [];
    for (const path of [rdbPath(plan.live), aofDirPath(plan.live)]) {
      signal.throwIfAborted();
      const tar = await aside.pathFor('redis', plan.container, `${posix.basename(path)}.tar`);
      if (await spoolFolder(docker, plan.container, path, tar)) tars.push(tar);
    }
    return new KeptFiles(tars);
  }

  /** Undoes a half-done copy, so the container starts on its previous data rather than on a torn file. */
  async putBack(docker: DockerEngine, plan: ContainerRedisPlan): Promise<void> {
    for (const tar of this.tars) await docker.putArchive(plan.container, plan.live.dir, createReadStream(tar));
  }
}

async function* restoreEntries(
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
async function* synthesizedAof(source: ComponentSource, plan: ContainerRedisPlan): AsyncGenerator<PackEntry> {
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
async function waitUntilLoaded(project: Project, docker: DockerEngine, container: string): Promise<number | { reason: string }> {
  const deadline = Date.now() + LOAD_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    const state = await docker.container(container);
    if (!state?.running || state.status === 'restarting') {
      const log = await docker.logTail(container, 3).catch(() => '');
      return { reason: `it ${state?.status ?? 'vanished'} instead of loading them${log ? ` (log: ${log})` : ''}` };
    }
    try {
      return Number((await (await connectRedis(project, docker)).run('DBSIZE')).trim()) || 0;
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
async function rollBack(
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

function checkRedisFiles(source: ComponentSource, files: readonly IndexedFile[]): void {
  for (const file of files) {
    if (file.path === RDB_ENTRY || file.path === LAYOUT_ENTRY || file.path.startsWith(`${AOF_FOLDER}/`)) continue;
    throw new UsageError(`${source.archiveName}: redis/${file.path} is not a Redis file this tool restores.`);
  }
  if (!files.some((file) => file.path === RDB_ENTRY)) {
    throw new UsageError(`${source.archiveName}: redis/${RDB_ENTRY} is missing.`, { hint: 'Nothing was touched.' });
  }
}

async function backupLayout(source: ComponentSource): Promise<RedisLayout | undefined> {
  const details = readDetails(RedisDetailsSchema, source, 'redis');
  if (details) return 'layout' in details ? details.layout : undefined;
  const text = await source.readText(LAYOUT_ENTRY);
  return text ? parseLayout(text) : undefined;
}
