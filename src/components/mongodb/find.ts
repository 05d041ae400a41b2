import { UsageError } from '../../base/errors.js';
import { plural } from '../../base/format.js';
import type { ExamineContext, FoundItem, NameMatcher } from '../../core/component.js';
import { MONGO_DUMP_ENTRY, readDump } from '../../mongo/archivedDump.js';

/**
 * The collections (and views) whose name, or `database.collection`, matches, with their documents
 * and bytes: the dump is read whole once, as inspect reads it, to count them.
 */
export async function* findCollections({ source }: ExamineContext, matches: NameMatcher): AsyncGenerator<FoundItem> {
  const dump = await readDump(source);
  if (!dump) throw new UsageError(`mongodb/${MONGO_DUMP_ENTRY} is missing.`);
  for (const namespace of dump.namespaces) {
    if (!matches(namespace.collection) && !matches(`${namespace.db}.${namespace.collection}`)) continue;
    yield {
      group: { kind: 'database', name: namespace.db },
      kind: namespace.type === 'view' ? 'view' : 'collection',
      name: namespace.collection,
      bytes: namespace.bytes,
      detail: plural(namespace.documents, 'document'),
    };
  }
  // What was read before damage is shown; the damage is reported beside it.
  if (dump.problems.length > 0) throw new UsageError(`${dump.problems[0]}.`);
}

/**
 * The databases of the dump with their collections and documents, from the manifest's shape
 * (counted from the dump as it was written; views are not in it); undefined for an archive without
 * one, whose databases are then found by reading the dump. A database other than the backup's
 * (the dump's `admin`) is listed, as `inspect --find` lists it, marked as one a restore leaves out.
 */
export function databaseGroups({ source, shape }: ExamineContext): Promise<FoundItem['group'][] | undefined> {
  if (shape?.items !== 'documents' || shape.group !== 'collection') return Promise.resolve(undefined);
  const databases = new Map<string, { collections: number; documents: number }>();
  for (const [namespace, group] of Object.entries(shape.groups)) {
    const dot = namespace.indexOf('.'); // a database name holds no dot
    if (dot <= 0) return Promise.resolve(undefined);
    const database = namespace.slice(0, dot);
    const tally = databases.get(database) ?? { collections: 0, documents: 0 };
    databases.set(database, { collections: tally.collections + 1, documents: tally.documents + group.items });
  }
  const archived = (source.details as { database?: unknown } | undefined)?.database;
  return Promise.resolve(
    [...databases].map(([name, { collections, documents }]) => {
      const left = typeof archived === 'string' && name !== archived ? ` · not restored (only ${archived} is)` : '';
      return { kind: 'database', name, detail: `${plural(collections, 'collection')} · ${plural(documents, 'document')}${left}` };
    }),
  );
}
