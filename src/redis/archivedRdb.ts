import type { ComponentSource } from '../core/component.js';

/** Where the backup's RDB snapshot is in the component's folder. */
export const RDB_ENTRY = 'dump.rdb';

/** The bytes of the backup's RDB, streamed from the archive (the other files of the component skipped). */
export async function* archivedRdb(source: ComponentSource): AsyncGenerator<Buffer> {
  for await (const entry of source.entries()) {
    if (entry.path !== RDB_ENTRY) {
      entry.content.resume();
      continue;
    }
    for await (const chunk of entry.content) yield chunk as Buffer;
  }
}
