import { posix } from 'node:path';
import { OrkestraError, UsageError } from '../../base/errors.js';
import { plural, withoutFinalPeriod } from '../../base/format.js';
import type { Availability } from '../../model/availability.js';
import type { BackupContext, BackupResult, PlanContext, RestoreContext, RestorePlan, RestoreResult } from '../../core/component.js';
import { critical } from '../../base/criticalSection.js';
import { countedAsProgress } from '../../model/progress.js';
import { smallFileList } from '../../archive/smallFileList.js';
import { checkKeptSnapshot, keepSnapshot, keysText, putBackOnline, replicaSnapshot, restoreOnline } from '../../redis/direct.js';
import { parseRedisUrl, RespConnection, type RedisAddress } from '../../redis/resp.js';
import { databasesText } from '../../redis/serverLimits.js';
import { archivedRdb, RDB_ENTRY } from '../../redis/archivedRdb.js';
import { keyspaceAt, totalKeys } from '../../redis/keyspace.js';
import { keysShape } from './shape.js';
import type { RedisTransport } from './transport.js';
import type { KeySelection } from '../../redis/keySelection.js';
import type { SelectedRdb } from '../../redis/selectedRdb.js';
import { keySelectionOf } from './keySelectors.js';
import { planKeySelection, planWithSelection, restoreKeySelection } from './onlineSelection.js';
import {
  interruptedBeforeStart,
  keptFileName,
  keptShown as keptShownAt,
  putBackError,
  putBackFailedError,
  puttingBackNote,
  unchangedError,
  type StoppedRestore,
} from './onlineOutcome.js';

/** An online restore's plan: the server, and the databases FLUSHDB empties first. */
export interface OnlineRedisPlan extends RestorePlan {
  readonly transport: 'online';
  readonly databases: readonly number[];
  /** The server's proto-max-bulk-len: the longest RESTORE it takes (and the most of one value held). */
  readonly maxBulk: number;
  /** A selective restore's keys (restore-one-thing.md): only they are restored, no database flushed. */
  readonly keys?: KeySelection;
  /** Those keys as the plan read them, when they fit in memory: the restore does not read the archive again. */
  readonly selected?: SelectedRdb;
}

/**
 * Redis reached through REDIS_URL, without Docker (a managed or system Redis): the backup takes
 * the RDB through the replication handshake, the restore runs online with RESTORE commands.
 * `idleMs` bounds how long it waits for a server that stops answering (ORKESTRA_REDIS_TIMEOUT_SECONDS).
 */
export function redisUrl(setting: (key: string) => string | undefined, idleMs: number): RedisAddress | undefined {
  const url = setting('REDIS_URL');
  return url === undefined ? undefined : { ...parseRedisUrl(url), idleMs };
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
  // The sink counts the bytes as progress.
  await sink.addFile(RDB_ENTRY, snapshot.size, snapshot.content);
  // Counted just after the snapshot: what the next backup's anomaly checks compare with.
  const databases = await keyspaceAt(address);
  return {
    details: { transport: 'replication', server: address.shown },
    summary: `RDB of ${address.shown} through replication, ${plural(totalKeys(databases), 'key')}`,
    shape: keysShape(databases),
  };
}

export async function onlinePlan(address: RedisAddress, { source, selection }: PlanContext): Promise<OnlineRedisPlan> {
  const keys = selection && keySelectionOf(selection);
  const files = await smallFileList(source, 'redis');
  if (!files.some((file) => file.path === RDB_ENTRY))
    throw new UsageError(`${source.archiveName}: redis/${RDB_ENTRY} is missing.`, { hint: 'Nothing was touched.' });
  const { plan, count, selected } = await planWithSelection(address, archivedRdb(source), keys, source.archiveName);
  const databases = [...plan.keysPerDb.keys()].sort((a, b) => a - b);
  const warnings = files.some((file) => /\.incr\.aof$/.test(file.path) && file.size > 0)
    ? ["the backup's AOF increments are not replayed online: its RDB snapshot is what is restored"]
    : [];
  const server = `Redis at ${address.shown} (${address.open ? 'through the engine' : 'REDIS_URL'}, Redis ${plan.serverVersion})`;
  if (keys !== undefined) {
    const { actions, replaces, totals, beside } = planKeySelection(address, count!, keys, server);
    const plannedKeys = { keys, selected, selection: { totals, beside } };
    return { transport: 'online', databases: [], maxBulk: plan.maxBulk, ...plannedKeys, actions, replaces, warnings };
  }
  if (databases.length === 0) {
    return {
      transport: 'online',
      databases,
      maxBulk: plan.maxBulk,
      actions: [`${server}: the backup's RDB holds no keys, so no database is flushed and nothing is restored`],
      replaces: [],
      warnings,
    };
  }
  return {
    transport: 'online',
    databases,
    maxBulk: plan.maxBulk,
    actions: [
      `${server}: restored online, the server keeps running`,
      `before any change, its current data is kept: a replication snapshot into docker/.pre-restore-<UTC stamp>/redis/${snapshotName(address)}`,
      `FLUSHDB in ${databasesText(databases)}: keys not in the backup are removed there; other databases are left alone`,
      `${keysText(plan.keysPerDb)}, each with RESTORE … REPLACE ABSTTL (RDB version ${plan.version}), pipelined; keys whose expiry has passed are left out`,
      'if the restore fails or is interrupted, the kept snapshot is put back the same way into the flushed databases',
    ],
    replaces: [`Redis at ${address.shown}: ${databasesText(databases)} flushed and restored online`],
    warnings,
  };
}

/**
 * Keeps the server's data, checks it could be put back, then restores inside a critical
 * section: an interrupt stops the RESTOREs between two keys and the previous data is put back,
 * so the server ends with the archive's data or its own, and the message says which.
 */
export async function onlineRestore(address: RedisAddress, context: RestoreContext, plan: OnlineRedisPlan): Promise<RestoreResult> {
  const { source, progress, aside, signal } = context;
  if (plan.keys !== undefined) return restoreKeySelection(address, context, plan.keys, plan.maxBulk, plan.selected);
  if (plan.databases.length === 0) return { summary: `the backup holds no keys: nothing changed in Redis at ${address.shown}` };
  const kept = await aside.pathFor('redis', snapshotName(address));
  const keptShown = keptShownAt(aside, snapshotName(address));
  progress.note(`keeping the current data of ${address.shown} in ${posix.basename(aside.displayPath)}/redis/`);
  await keepSnapshot(address, kept, signal);
  await checkKeptSnapshot(address, kept, plan.maxBulk);
  if (signal.aborted) throw interruptedBeforeStart(address);
  return critical(`restoring Redis at ${address.shown} (or putting its previous data back)`, async () => {
    let changed = false;
    try {
      const rdb = countedAsProgress(archivedRdb(source), progress);
      const onFirstChange = () => (changed = true);
      const result = await restoreOnline(address, rdb, plan.databases, () => undefined, { signal, maxBulk: plan.maxBulk, onFirstChange });
      const expired = result.expired > 0 ? ` (${plural(result.expired, 'expired key')} left out)` : '';
      return {
        summary: `${plural(result.restored, 'key')} restored online into ${address.shown}${expired}; previous data kept in ${keptShown}`,
      };
    } catch (error) {
      const stopped = { restore: `the online restore into Redis at ${address.shown}`, interrupted: signal.aborted, error };
      if (!changed) throw unchangedError(stopped, `Its current data is also kept in ${keptShown}.`);
      throw await putBack(plan, { ...stopped, address, kept, keptShown, progress });
    }
  });
}

/**
 * After a failed or interrupted restore: the kept snapshot back into the flushed databases, on a
 * new connection. The error returned says which state the server is in, and where the snapshot is.
 */
async function putBack(
  plan: OnlineRedisPlan,
  stopped: StoppedRestore & { address: RedisAddress; kept: string; keptShown: string; progress: RestoreContext['progress'] },
): Promise<OrkestraError> {
  const one = plan.databases.length === 1;
  const flushed = databasesText(plan.databases);
  stopped.progress.note(puttingBackNote(stopped, 'the previous data'));
  try {
    await putBackOnline(stopped.address, stopped.kept, plan.databases, plan.maxBulk);
  } catch (again) {
    return putBackFailedError(
      stopped,
      'the previous data',
      again,
      `${flushed} ${one ? 'is' : 'are'} left flushed and partly restored`,
      `The previous data is kept in ${stopped.kept}; run the restore again once Redis is reachable, or load that RDB file into it.`,
    );
  }
  const holds = `was put back, so ${flushed} ${one ? 'holds what it' : 'hold what they'} held before`;
  return putBackError(stopped, 'the previous data', holds, `It is also kept in ${stopped.keptShown}.`);
}

function snapshotName(address: RedisAddress): string {
  return keptFileName(address, '.rdb');
}

/** Redis at REDIS_URL, reached without Docker: replication for the backup, RESTORE commands for the restore. */
export function onlineRedis(address: RedisAddress): RedisTransport<OnlineRedisPlan> {
  return {
    availability: () => onlineAvailability(address),
    backup: (context) => onlineBackup(address, context),
    planRestore: (context) => onlinePlan(address, context),
    restore: (context, plan) => onlineRestore(address, context, plan),
  };
}
