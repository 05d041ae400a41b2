import type { DockerEngine } from '../docker/engine.js';
import type { RedisCli } from './cli.js';
import { parseConfigPairs } from './layout.js';

/**
 * Stops Redis for a restore. A server with save points writes a full RDB snapshot on shutdown:
 * `docker stop` of 780,903 string keys took 1.40 s with it and 0.46 s without, a SAVE of the
 * 2 GB benchmark's Redis 2.8 s, and for a large dataset it can outlast the stop timeout (the
 * engine then kills Redis mid-write). When the AOF is on and healthy, Redis flushes and
 * fsyncs it at shutdown and it holds every write, so that snapshot is a second copy nobody
 * reads: the save points are cleared in memory just before the stop (the restarted server reads
 * its own configuration again) and put back if the stop fails. Any doubt — AOF off or failing,
 * CONFIG refused, no redis-cli to ask — and Redis stops as it always does.
 */
export async function stopForRestore(
  docker: DockerEngine,
  container: string,
  cli: RedisCli | undefined,
  note: (message: string) => void,
): Promise<void> {
  const putBack = cli && (await clearSavePoints(cli));
  note(`stopping ${container}${putBack ? ' (no shutdown snapshot: appendonly is on and the AOF holds every write)' : ''}`);
  try {
    await docker.stop(container);
  } catch (error) {
    await putBack?.();
    throw error;
  }
}

/**
 * Clears the save points when that loses nothing (AOF on and writing fine); returns how to put
 * them back, or undefined when they were left alone.
 */
async function clearSavePoints(cli: RedisCli): Promise<(() => Promise<void>) | undefined> {
  try {
    const persistence = await cli.persistence();
    const aofHealthy =
      persistence.aof_enabled === '1' && persistence.aof_last_write_status === 'ok' && persistence.aof_last_bgrewrite_status !== 'err';
    if (!aofHealthy) return undefined;
    const savePoints = parseConfigPairs(await cli.run('CONFIG', 'GET', 'save')).save;
    if (!savePoints) return undefined;
    await cli.run('CONFIG', 'SET', 'save', '');
    return () =>
      cli.run('CONFIG', 'SET', 'save', savePoints).then(
        () => undefined,
        () => undefined,
      );
  } catch {
    return undefined; // CONFIG renamed away or INFO refused: stop as always
  }
}
