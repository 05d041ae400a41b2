import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { OrkestraError, RuntimeError, UsageError } from '../base/errors.js';
import { plural, withoutFinalPeriod } from '../base/format.js';
import type {
  Availability,
  BackupContext,
  BackupResult,
  PlanContext,
  RestoreContext,
  RestorePlan,
  RestoreResult,
} from '../core/component.js';
import { critical } from '../core/criticalSection.js';
import { countedAsProgress } from '../core/progress.js';
import { smallFileList } from '../core/smallFileList.js';
import { keepSnapshot, keysText, planOnlineRestore, putBackOnline, replicaSnapshot, restoreOnline } from './direct.js';
import { parseRedisUrl, RespConnection, type RedisAddress } from './resp.js';
import { archivedRdb, RDB_ENTRY } from './archivedRdb.js';

/** An online restore's plan: the server, and the databases FLUSHDB empties first. */
export interface OnlineRedisPlan extends RestorePlan {
  readonly transport: 'online';
  readonly databases: readonly number[];
}

/**
 * Redis reached through REDIS_URL, without Docker (a managed or system Redis): the backup takes
 * the RDB through the replication handshake, the restore runs online with RESTORE commands.
 */
export function redisUrl(setting: (key: string) => string | undefined): RedisAddress | undefined {
  const url = setting('REDIS_URL');
  return url === undefined ? undefined : parseRedisUrl(url);
}

export async function onlineAvailability(address: RedisAddress): Promise<Availability> {
  try {
    const connection = await RespConnection.open(address);
    try {
      connection.expectOk(await connection.command('PING'), 'PING');
    } finally {
      connection.close();
    }
    return { available: true, detail: `Redis at ${address.shown} (REDIS_URL): backup through replication, restore online` };
  } catch (error) {
    if (error instanceof OrkestraError && !(error instanceof UsageError))
      return { available: false, reason: withoutFinalPeriod(error.message) };
    throw error;
  }
}

export async function onlineBackup(address: RedisAddress, { sink, progress }: BackupContext): Promise<BackupResult> {
  progress.note(`Redis at ${address.shown} (REDIS_URL): snapshot through the replication handshake (SYNC)`);
  const snapshot = await replicaSnapshot(address);
  progress.expect(snapshot.size);
  await sink.addFile(RDB_ENTRY, snapshot.size, Readable.from(countedAsProgress(snapshot.content, progress)));
  return { details: { transport: 'replication', server: address.shown }, summary: `RDB of ${address.shown} through replication` };
}

export async function onlinePlan(address: RedisAddress, { source }: PlanContext): Promise<OnlineRedisPlan> {
  const files = await smallFileList(source, 'redis');
  if (!files.some((file) => file.path === RDB_ENTRY))
    throw new UsageError(`${source.archiveName}: redis/${RDB_ENTRY} is missing.`, { hint: 'Nothing was touched.' });
  const plan = await planOnlineRestore(address, archivedRdb(source));
  const databases = [...plan.keysPerDb.keys()].sort((a, b) => a - b);
  const warnings = files.some((file) => /\.incr\.aof$/.test(file.path) && file.size > 0)
    ? ["the backup's AOF increments are not replayed online: its RDB snapshot is what is restored"]
    : [];
  return {
    transport: 'online',
    databases,
    actions: [
      `Redis at ${address.shown} (REDIS_URL, Redis ${plan.serverVersion}): restored online, the server keeps running`,
      `before any change, its current data is kept: a replication snapshot into docker/.pre-restore-<UTC stamp>/redis/${snapshotName(address)}`,
      `FLUSHDB in ${plural(databases.length, 'database')} (${databases.join(', ')}): keys not in the backup are removed there; other databases are left alone`,
      `${keysText(plan.keysPerDb)}, each with RESTORE … REPLACE ABSTTL (RDB version ${plan.version}), pipelined; keys whose expiry has passed are left out`,
      'if a RESTORE fails, the kept snapshot is restored the same way',
    ],
    replaces: [`Redis at ${address.shown}: ${plural(databases.length, 'database')} (${databases.join(', ')}) flushed and restored online`],
    warnings,
  };
}

export async function onlineRestore(
  address: RedisAddress,
  { source, progress, aside }: RestoreContext,
  plan: OnlineRedisPlan,
): Promise<RestoreResult> {
  const kept = await aside.pathFor('redis', snapshotName(address));
  progress.note(`keeping the current data of ${address.shown} in ${posix.basename(aside.displayPath)}/redis/`);
  await keepSnapshot(address, kept);
  try {
    const result = await restoreOnline(address, countedAsProgress(archivedRdb(source), progress), plan.databases, () => undefined);
    const expired = result.expired > 0 ? ` (${plural(result.expired, 'expired key')} left out)` : '';
    return {
      summary: `${plural(result.restored, 'key')} restored online into ${address.shown}${expired}; previous data kept in docker/${posix.basename(aside.displayPath)}/redis/${snapshotName(address)}`,
    };
  } catch (error) {
    progress.note('the restore stopped; putting the previous data back');
    const putBack = await critical(`putting Redis's previous data back`, () =>
      putBackOnline(address, kept, plan.databases).then(
        () => 'put back',
        (again: Error) => `putting it back failed too (${again.message})`,
      ),
    );
    throw new RuntimeError(
      `online restore into ${address.shown} stopped: ${(error as Error).message} — the previous data was ${putBack === 'put back' ? 'put back' : putBack}.`,
      {
        hint: `The previous data is kept in ${kept}.`,
      },
    );
  }
}

function snapshotName(address: RedisAddress): string {
  return `${address.host.replace(/[^A-Za-z0-9.-]/g, '_')}-${address.port}.rdb`;
}
