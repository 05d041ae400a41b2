import { posix } from 'node:path';
import { AbortedError, type OrkestraError, UsageError } from '../../base/errors.js';
import { critical } from '../../base/criticalSection.js';
import { plural } from '../../base/format.js';
import type { RestoreContext, RestoreResult } from '../../core/component.js';
import { countedAsProgress } from '../../model/progress.js';
import { archivedRdb } from '../../redis/archivedRdb.js';
import { planOnlineRestore, RestoreRefused, restoreOnline, type OnlinePlan } from '../../redis/direct.js';
import { deleteKeys, keepSelected, targetsOf, type KeptKeys, type KeySelection } from '../../redis/keySelection.js';
import { SelectedRdb } from '../../redis/selectedRdb.js';
import { SelectionCounter, type SelectionCount } from '../../redis/selectionCount.js';
import { putBackSelected } from '../../redis/keptKeys.js';
import type { RedisAddress } from '../../redis/resp.js';
import { checkDatabases, databasesText, serverLimits } from '../../redis/serverLimits.js';
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
import type { RdbBytes } from '../../redis/rdbReader.js';

/** What a selective online restore plans: the selection and what it counted. */
export interface KeySelectionPlan {
  readonly actions: string[];
  readonly replaces: string[];
  readonly totals: string;
  readonly beside?: string;
}

/**
 * The most of the selected keys' records a plan holds for the restore, which then reads them from
 * memory instead of the archive; a larger selection is spooled by the keep pass. 1 % of the 2 GB
 * bench (1,000 keys of ~200 bytes) is 230 kB.
 */
const HELD_SELECTION_BYTES = 4 * 1024 * 1024;

/**
 * Checks the archive's RDB for an online restore (`planOnlineRestore`, reading it whole) and, with
 * a selection, counts in the same walk what it picks of the archive and what is there now, and
 * holds the selected keys when they fit in HELD_SELECTION_BYTES. The survey's refusals come
 * first; then a --to-db the server does not have, and a --keys or --db that picks no key of the
 * archive (exit 2, before any change).
 */
export async function planWithSelection(
  address: RedisAddress,
  rdb: RdbBytes,
  keys: KeySelection | undefined,
  archiveName: string,
): Promise<{ plan: OnlinePlan; count?: SelectionCount; selected?: SelectedRdb }> {
  if (keys === undefined) return { plan: await planOnlineRestore(address, rdb) };
  const held = SelectedRdb.held(HELD_SELECTION_BYTES);
  let counter: SelectionCounter | undefined;
  let refused: { error: unknown } | undefined;
  try {
    if (keys.toDb !== undefined) await checkDatabases(address, await serverLimits(address), [keys.toDb]);
    counter = await SelectionCounter.open(address, keys, Date.now(), held);
  } catch (error) {
    refused = { error };
  }
  // Once the selection outgrows what is held, its values are only measured, as every other key's.
  const keepValues = (db: number, key: Buffer) => (held.complete && counter!.selects(db, key) ? HELD_SELECTION_BYTES : 0);
  try {
    const plan = await planOnlineRestore(address, rdb, counter?.add, counter && keepValues);
    if (refused) throw refused.error;
    const count = await counter!.finish();
    refuseUnmatched(count, keys, archiveName);
    await held.finish();
    return { plan, count, selected: held.complete ? held : undefined };
  } finally {
    counter?.close();
  }
}

/** The plan's lines for what `planWithSelection` counted. */
export function planKeySelection(address: RedisAddress, count: SelectionCount, keys: KeySelection, server: string): KeySelectionPlan {
  const restored = count.add + count.overwrite;
  const where = keys.toDb === undefined ? databasesText(count.targets) : `database ${keys.toDb}`;
  const deleted = keys.deleteMissing ? count.absent : 0;
  const totals = `${plural(restored, 'key')} in the archive: ${count.add} to add, ${count.overwrite} to overwrite${keys.deleteMissing ? `, ${deleted} to delete` : ''}`;
  const actions = [
    `${server}: only the selected keys, each with RESTORE … REPLACE ABSTTL; no database is flushed`,
    ...selectorLines(count, keys),
    `${totals}${count.expired > 0 ? ` (${plural(count.expired, 'expired key')} left out)` : ''}`,
    keys.deleteMissing
      ? `${plural(count.absent, 'key')} matching now in ${where} ${count.absent === 1 ? 'is' : 'are'} absent from the archive: deleted (--delete-missing)`
      : `${plural(count.absent, 'key')} matching now in ${where} ${count.absent === 1 ? 'is' : 'are'} absent from the archive: left alone (--delete-missing deletes them)`,
    `before any change, the current values of the keys it changes are kept: docker/.pre-restore-<UTC stamp>/redis/${keptName(address, keys)}`,
    'if the restore fails or is interrupted, the kept values are put back and the keys it added deleted',
  ];
  if (keys.toDb !== undefined) actions.push(`database ${keys.db} (the live one) is not touched`);
  const changes = [`${count.overwrite} overwritten`, `${count.add} added`, ...(deleted > 0 ? [`${deleted} deleted`] : [])].join(', ');
  return {
    actions,
    replaces: count.overwrite + deleted > 0 ? [`Redis at ${address.shown}, ${where}: ${changes} (keys)`] : [],
    totals,
    beside: keys.toDb === undefined ? undefined : `database ${keys.toDb} of Redis at ${address.shown}`,
  };
}

function refuseUnmatched(count: SelectionCount, keys: KeySelection, archiveName: string): void {
  const inDb = keys.db === undefined ? '' : ` in database ${keys.db}`;
  const hint = `orkestra-backup inspect ${archiveName} shows its databases and keys. Nothing was touched.`;
  for (const [glob, perDb] of count.archived) {
    if (sum(perDb) > 0) continue;
    if (keys.globs.length > 0) throw new UsageError(`--keys ${glob} matches no key of redis${inDb} in ${archiveName}.`, { hint });
    throw new UsageError(`${keys.db === undefined ? 'the selection' : `--db ${keys.db}`} picks no key of redis in ${archiveName}.`, {
      hint,
    });
  }
}

function selectorLines(count: SelectionCount, keys: KeySelection): string[] {
  return [...count.archived].map(([glob, perDb]) => {
    const named = keys.globs.length > 0 ? `--keys ${glob}` : keys.db === undefined ? 'every key' : `--db ${keys.db}`;
    const dbs = [...perDb].sort(([a], [b]) => a - b).map(([db, keysIn]) => `database ${db}: ${keysIn}`);
    const live = [...(count.live.get(glob) ?? new Map<number, number>())].sort(([a], [b]) => a - b);
    const now = count.targets.map((db) => `${live.find(([at]) => at === db)?.[1] ?? 0} in database ${db}`).join(', ');
    return `${named}: ${plural(sum(perDb), 'key')} in the archive (${dbs.join(', ')}); matching now: ${now || 'none'}`;
  });
}

function sum(perDb: ReadonlyMap<number, number>): number {
  return [...perDb.values()].reduce((total, count) => total + count, 0);
}

/**
 * Keeps the current state of every key it changes, then restores the selected keys (and, with
 * --delete-missing, deletes the absent ones) inside a critical section: on a failure or an
 * interrupt, the keys changed so far are put back from the kept file, and the message says so.
 */
export async function restoreKeySelection(
  address: RedisAddress,
  { source, progress, aside, signal }: RestoreContext,
  keys: KeySelection,
  maxBulk: number,
  held?: SelectedRdb,
): Promise<RestoreResult> {
  const name = keptName(address, keys);
  const path = await aside.pathFor('redis', name);
  const keptShown = keptShownAt(aside, name);
  progress.note(`keeping the current values of the selected keys of ${address.shown} in ${posix.basename(aside.displayPath)}/redis/`);
  const now = Date.now();
  // With the selected keys the plan held, neither pass reads the archive again. Otherwise the keep pass
  // reads the archive's RDB (its progress is the restore's) and spools the selected keys for the restore.
  const spool = held ? undefined : await SelectedRdb.create();
  try {
    const read = countedAsProgress(held ? held.bytes() : archivedRdb(source), progress);
    const kept = await keepSelected(address, read, keys, { now, path, maxBulk, signal, spool }).catch((error: unknown) => {
      if (signal.aborted)
        throw new AbortedError(`interrupted while keeping the current values in Redis at ${address.shown}; nothing was changed.`);
      throw error;
    });
    if (signal.aborted) throw interruptedBeforeStart(address);
    const rdb = held ? held.bytes() : spool!.complete ? spool!.bytes() : archivedRdb(source);
    return await restoreKept(address, { rdb, kept, keys, now, maxBulk, signal, path, keptShown, progress });
  } finally {
    await spool?.remove();
  }
}

/** The selected keys into Redis, and --delete-missing's deletions, in a critical section that puts the kept values back on a failure. */
function restoreKept(
  address: RedisAddress,
  how: {
    rdb: RdbBytes;
    kept: KeptKeys;
    keys: KeySelection;
    now: number;
    maxBulk: number;
    signal: AbortSignal;
    path: string;
    keptShown: string;
    progress: RestoreContext['progress'];
  },
): Promise<RestoreResult> {
  const { rdb, kept, keys, now, maxBulk, signal, path, keptShown, progress } = how;
  return critical(`restoring keys into Redis at ${address.shown} (or putting their values back)`, async () => {
    let sent = 0;
    const onSent = () => (sent += 1);
    try {
      const select = targetsOf(keys);
      const result = await restoreOnline(address, rdb, [], onSent, { signal, maxBulk, select, now });
      await deleteKeys(address, kept.toDelete, onSent, signal);
      const parts = [
        `${plural(result.restored, 'key')} restored online into ${address.shown}${keys.toDb === undefined ? '' : ` database ${keys.toDb}`}`,
      ];
      if (kept.toDelete.length > 0) parts.push(`${plural(kept.toDelete.length, 'key')} absent from the archive deleted`);
      // Judged at the same moment by both walks: the keep pass counted them (the spool holds none).
      if (kept.expired > 0) parts.push(`${plural(kept.expired, 'expired key')} left out`);
      return { summary: `${parts.join(', ')}; previous values kept in ${keptShown}` };
    } catch (error) {
      const stopped = { restore: `the selective restore into Redis at ${address.shown}`, interrupted: signal.aborted, error };
      if (sent === 0) throw unchangedError(stopped, `The current values are also kept in ${keptShown}.`);
      const skip = new Set(error instanceof RestoreRefused ? [error.index] : []);
      throw await putBack({ ...stopped, address, path, keptShown, sent, skip }, progress);
    }
  });
}

async function putBack(
  stopped: StoppedRestore & { address: RedisAddress; path: string; keptShown: string; sent: number; skip: ReadonlySet<number> },
  progress: RestoreContext['progress'],
): Promise<OrkestraError> {
  progress.note(puttingBackNote(stopped, 'the kept values'));
  let back: { restored: number; deleted: number };
  try {
    back = await putBackSelected(stopped.address, stopped.path, stopped.sent, stopped.skip);
  } catch (again) {
    return putBackFailedError(
      stopped,
      'the kept values',
      again,
      `up to ${plural(stopped.sent, 'selected key')} may hold the archive's value`,
      `The previous values are kept in ${stopped.path} (RESP commands: redis-cli -h … --pipe < that file puts them back once Redis is reachable).`,
    );
  }
  const holds = `were put back (${plural(back.restored, 'key')} given its previous value, ${plural(back.deleted, 'added key')} deleted), so the selected keys hold what they held before`;
  return putBackError(stopped, 'the kept values', holds, `The previous values are also kept in ${stopped.keptShown}.`);
}

/** The kept file: RESP commands that put the changed keys back. */
function keptName(address: RedisAddress, keys: KeySelection): string {
  const into = keys.toDb === undefined ? '' : `-db${keys.toDb}`;
  return keptFileName(address, `${into}.keys.resp`);
}
