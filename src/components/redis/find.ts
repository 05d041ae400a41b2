import { UsageError } from '../../base/errors.js';
import { plural } from '../../base/format.js';
import type { ExamineContext, FoundItem, NameMatcher } from '../../core/component.js';
import { archivedRdb, RDB_ENTRY } from '../../redis/archivedRdb.js';
import { walkRdb } from '../../redis/rdbKeys.js';
import { Unwalkable } from '../../redis/rdbReader.js';

/**
 * The keys of the backup's RDB whose name matches, with their database, type and the size of the
 * value as the RDB stores it (what a restore sends): one walk of the file, values measured, never held.
 */
export async function* findKeys({ source }: ExamineContext, matches: NameMatcher): AsyncGenerator<FoundItem> {
  let present = false;
  for await (const file of source.files()) present ||= file.path === RDB_ENTRY;
  if (!present) return; // examine reports it missing
  try {
    for await (const entry of walkRdb(archivedRdb(source), { keepKey: () => true, values: true, valueKeepUpTo: 0 })) {
      const name = entry.key!.toString('utf8');
      if (!matches(name)) continue;
      yield { group: { kind: 'database', name: String(entry.db) }, kind: 'key', name, bytes: entry.valueBytes ?? 0, detail: entry.type };
    }
  } catch (error) {
    if (!(error instanceof Unwalkable)) throw error; // a damaged record is a UsageError already
    throw new UsageError(
      `redis/${RDB_ENTRY} holds ${error.message}, which this tool cannot step over: the keys after it were not searched.`,
    );
  }
}

/**
 * The databases holding keys, with their keys, from the manifest's shape (`INFO keyspace` just
 * after the snapshot, so a count may be off by what changed in that instant); undefined for an
 * archive without one, whose databases are then found by walking the RDB.
 */
export function keyGroups({ shape }: ExamineContext): Promise<FoundItem['group'][] | undefined> {
  if (shape?.items !== 'keys' || shape.group !== 'database') return Promise.resolve(undefined);
  // Integer names come out ascending, as the RDB holds its databases.
  const databases = Object.entries(shape.groups).filter(([name, group]) => /^\d+$/.test(name) && group.items > 0);
  return Promise.resolve(databases.map(([name, group]) => ({ kind: 'database', name, detail: plural(group.items, 'key') })));
}
