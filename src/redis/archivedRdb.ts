import { PreconditionError, UsageError } from '../base/errors.js';
import type { ComponentSource } from '../archive/componentSource.js';
import type { RedisCli } from './cli.js';
import { checkRdb, highestRdbVersion } from './rdb.js';
import type { RdbBytes } from './rdbReader.js';

/** Where the backup's RDB snapshot is in the component's folder. */
export const RDB_ENTRY = 'dump.rdb';

/**
 * The bytes of the backup's RDB, streamed from the archive (the other files of the component
 * skipped, and those after it not read), with the entry's size once it is reached: the RDB walk
 * checks every length a record declares against what is left of it.
 */
export function archivedRdb(source: ComponentSource): RdbBytes {
  let size: number | undefined;
  return {
    get size() {
      return size;
    },
    async *[Symbol.asyncIterator]() {
      for await (const entry of source.entries((file) => file.path === RDB_ENTRY)) {
        if (entry.path !== RDB_ENTRY) {
          entry.content.resume();
          continue;
        }
        size = entry.size;
        for await (const chunk of entry.content) yield chunk as Buffer;
        return;
      }
    },
  };
}

/**
 * The backup's RDB is checked whole before anything is stopped: its CRC-64 and every record's
 * declared lengths (a damaged or hostile file is refused here, not met by Redis while it loads),
 * and its version must be one the running server can load (Redis refuses a newer one and exits).
 */
export async function checkArchivedRdb(cli: RedisCli, source: ComponentSource, size: number | undefined): Promise<string> {
  const check = await checkRdb(archivedRdb(source), size);
  const { version } = check;
  const server = await cli.serverVersion();
  const loads = server ? highestRdbVersion(server) : undefined;
  if (version !== undefined && loads !== undefined && version > loads) {
    throw new PreconditionError(
      `the backup's RDB is version ${version}, newer than Redis ${server} in ${cli.container} can load (up to version ${loads}).`,
      { hint: 'Restore into a Redis at least as new as the one that made the backup. Nothing was touched.' },
    );
  }
  if (check.problems.length > 0) {
    throw new UsageError(`${source.archiveName}: redis/${RDB_ENTRY}: ${check.problems[0]}.`, {
      hint: 'Use another archive (verify tells which are sound). Nothing was touched.',
    });
  }
  if (version === undefined) return 'RDB version unknown';
  return `RDB version ${version}${server ? `, loadable by Redis ${server}` : ''}`;
}
