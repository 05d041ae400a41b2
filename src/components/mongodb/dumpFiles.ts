import type { ComponentSource } from '../../archive/componentSource.js';
import { UsageError } from '../../base/errors.js';
import { dumpPartPath, isDumpPart, MONGO_DUMP_ENTRY, type DumpLayout } from '../../mongo/archivedDump.js';

/** The source database's name, for archives whose manifest lacks it. */
export const DATABASE_ENTRY = 'database.txt';

/**
 * The mongodb files are this tool's: database.txt and the dump, kept one way — parts numbered
 * from 0 in archive order, or the older gzip file. Refused (exit 2) before the server is asked;
 * the list is streamed, as a dump of a million parts has them.
 */
export async function checkMongoFiles(source: ComponentSource): Promise<DumpLayout> {
  const refuse = (problem: string) => new UsageError(`${source.archiveName}: ${problem}.`, { hint: 'Nothing was touched.' });
  let parts = 0;
  let whole: number | undefined;
  for await (const file of source.files()) {
    if (file.path === DATABASE_ENTRY) continue;
    if (file.path === MONGO_DUMP_ENTRY) whole = file.size;
    else if (!isDumpPart(file.path)) throw refuse(`mongodb/${file.path} is not a MongoDB file this tool restores`);
    else if (file.path !== dumpPartPath(parts))
      throw refuse(`mongodb/${file.path} is out of place: mongodb/${dumpPartPath(parts)} belongs there`);
    else if (file.size === 0) throw refuse(`mongodb/${file.path} is empty`);
    else parts += 1;
  }
  if (whole !== undefined && parts > 0) throw refuse(`mongodb holds two dumps (${MONGO_DUMP_ENTRY} and dump/), and a restore takes one`);
  if (parts > 0) return 'parts';
  if (whole === undefined) throw refuse(`mongodb holds no dump (neither dump/ nor ${MONGO_DUMP_ENTRY})`);
  if (whole === 0) throw refuse(`mongodb/${MONGO_DUMP_ENTRY} is empty`);
  return 'gzip';
}
