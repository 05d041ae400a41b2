import type { IndexedFile } from '../../archive/fileIndex.js';
import { packTar } from '../../archive/tarPack.js';
import { RuntimeError, UsageError } from '../../base/errors.js';
import { plural } from '../../base/format.js';
import { posix } from 'node:path';
import type { ComponentSource } from '../../archive/componentSource.js';
import { critical } from '../../base/criticalSection.js';
import { smallFileList } from '../../archive/smallFileList.js';
import { containerAvailability } from '../../docker/containers.js';
import { checkArchivedRdb, RDB_ENTRY } from '../../redis/archivedRdb.js';
import { copyAofFolder, copyOut } from '../../redis/copyOut.js';
import { aofDirPath, formatLayout, rdbPath } from '../../redis/layout.js';
import { connectRedis, REDIS_DEFAULT_CONTAINER } from '../../redis/projectRedis.js';
import { keysPerDatabase, totalKeys } from '../../redis/keyspace.js';
import { keysShape } from './shape.js';
import { stopForRestore } from '../../redis/shutdown.js';
import { freshSnapshot } from '../../redis/snapshot.js';
import { copyStopped, KeptFiles, restoreEntries, rollBack, synthesizedAof, waitUntilLoaded } from './containerRestore.js';
import { AOF_FOLDER, backupLayout, LAYOUT_ENTRY } from './files.js';
import type { RedisTransport } from './transport.js';
import type { ContainerRedisPlan } from './containerPlan.js';

const DEFAULT_CONTAINER = REDIS_DEFAULT_CONTAINER;

/**
 * Redis in its container: a fresh BGSAVE snapshot and the AOF folder, copied out through the
 * Docker archive API while no AOF rewrite runs; restored by stopping the container, putting the
 * files at the live layout's paths and starting it again (also when the copy fails).
 */
export const containerRedis: RedisTransport<ContainerRedisPlan> = {
  async availability({ project, services }) {
    return containerAvailability(services, project.containerName('redis', DEFAULT_CONTAINER));
  },

  async backup(context) {
    const { project, services, sink, progress, signal } = context;
    const docker = services.docker();
    const cli = await connectRedis(project, docker);
    const layout = await cli.layout();
    progress.note(`layout: dir=${layout.dir}, dbfilename=${layout.dbfilename}, appendonly=${layout.appendonly ? 'yes' : 'no'}`);
    await sink.addText(LAYOUT_ENTRY, formatLayout(layout));
    progress.note('taking a fresh snapshot (BGSAVE)');
    await freshSnapshot(cli, signal);
    const rdbSize = await copyOut(docker, cli.container, rdbPath(layout), async (entry) => {
      progress.expect(entry.size);
      await sink.addFile(RDB_ENTRY, entry.size, entry.content);
    });
    if (rdbSize === undefined) throw new RuntimeError(`${rdbPath(layout)} is missing in ${cli.container} after BGSAVE.`);
    const aofFiles = await copyAofFolder(cli, docker, layout, signal, async (path, size, content) => {
      await sink.addFile(`${AOF_FOLDER}/${path}`, size, content);
    });
    const databases = keysPerDatabase(await cli.run('INFO', 'keyspace'));
    const keys = totalKeys(databases);
    return {
      shape: keysShape(databases),
      details: { layout, keys, aofFiles },
      summary: `${plural(keys, 'key')}, RDB ${aofFiles > 0 ? `and ${plural(aofFiles, 'AOF file')}` : 'only'} from ${layout.dir}`,
    };
  },

  async planRestore(context) {
    const { project, services, source } = context;
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
    const docker = services.docker();
    const cli = await connectRedis(project, docker).catch(() => undefined); // a Redis that does not answer is stopped without clearing its save points first
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
        if (!kept) return error;
        progress.note(`copy stopped; putting the previous files back`);
        const again = await kept.putBack(docker, plan).then(
          () => undefined,
          (failure: unknown) => failure,
        );
        return copyStopped(plan, kept, { interrupted: signal.aborted, error, again });
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
};

function checkRedisFiles(source: ComponentSource, files: readonly IndexedFile[]): void {
  for (const file of files) {
    if (file.path === RDB_ENTRY || file.path === LAYOUT_ENTRY || file.path.startsWith(`${AOF_FOLDER}/`)) continue;
    throw new UsageError(`${source.archiveName}: redis/${file.path} is not a Redis file this tool restores.`);
  }
  if (!files.some((file) => file.path === RDB_ENTRY)) {
    throw new UsageError(`${source.archiveName}: redis/${RDB_ENTRY} is missing.`, { hint: 'Nothing was touched.' });
  }
}
