import { z } from 'zod';
import type { ComponentSource } from '../../archive/componentSource.js';
import { readDetails } from '../../archive/componentDetails.js';
import { parseLayout, type RedisLayout } from '../../redis/layout.js';

/** Where the AOF files are in the component's folder of the archive. */
export const AOF_FOLDER = 'appendonlydir';
/** The live server's paths at backup time, as text (archives without details keep only this). */
export const LAYOUT_ENTRY = 'redis-layout.txt';

const RedisDetailsSchema = z.union([
  z.object({
    layout: z.object({
      dir: z.string(),
      dbfilename: z.string(),
      appenddirname: z.string(),
      appendfilename: z.string(),
      appendonly: z.boolean(),
    }),
  }),
  // Through REDIS_URL (replication): no layout, the server's files were never seen.
  z.object({ transport: z.literal('replication'), server: z.string() }),
]);

/** The layout the backup recorded: from the manifest's details, else from the archive's layout file. */
export async function backupLayout(source: ComponentSource): Promise<RedisLayout | undefined> {
  const details = readDetails(RedisDetailsSchema, source, 'redis');
  if (details) return 'layout' in details ? details.layout : undefined;
  const text = await source.readText(LAYOUT_ENTRY);
  return text ? parseLayout(text) : undefined;
}
