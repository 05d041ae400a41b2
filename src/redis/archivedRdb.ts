import type { ComponentSource } from '../core/component.js';
import type { RdbBytes } from './rdbReader.js';

/** Where the backup's RDB snapshot is in the component's folder. */
export const RDB_ENTRY = 'dump.rdb';

/**
 * The bytes of the backup's RDB, streamed from the archive (the other files of the component
 * skipped), with the entry's size once it is reached: the RDB walk checks every length a record
 * declares against what is left of it.
 */
export function archivedRdb(source: ComponentSource): RdbBytes {
  let size: number | undefined;
  return {
    get size() {
      return size;
    },
    async *[Symbol.asyncIterator]() {
      for await (const entry of source.entries()) {
        if (entry.path !== RDB_ENTRY) {
          entry.content.resume();
          continue;
        }
        size = entry.size;
        for await (const chunk of entry.content) yield chunk as Buffer;
      }
    },
  };
}
