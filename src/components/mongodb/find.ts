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
