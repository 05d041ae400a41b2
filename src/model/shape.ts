import { z } from 'zod';

/** One group of a component's data: a collection, a Redis database, a bucket, a folder. */
const ShapeGroupSchema = z.object({
  items: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative().optional(),
});
export type ShapeGroup = z.infer<typeof ShapeGroupSchema>;

/**
 * What one component held at backup time, in figures two backups can be compared by: items
 * (documents, keys, objects, files) per group (collection, Redis database, bucket, folder), and
 * names whose loss matters (secret file names). Never values.
 */
export const ComponentShapeSchema = z.object({
  /** What the items are, plural ("documents", "keys", "objects", "files"). */
  items: z.string().min(1),
  /** What a group is ("collection", "database", "bucket", "folder"). */
  group: z.string().min(1),
  groups: z.record(z.string(), ShapeGroupSchema),
  names: z.array(z.string()).optional(),
});
export type ComponentShape = z.infer<typeof ComponentShapeSchema>;

/** The shape of one archive: its components', and the names of the keys it fingerprints. */
export const ArchiveShapeSchema = z.object({
  components: z.record(z.string(), ComponentShapeSchema),
  /** Names of the encryption keys the manifest fingerprints (ORKESTRA_BACKUP_KEY_NAMES). */
  keyNames: z.array(z.string()).optional(),
});
export type ArchiveShape = z.infer<typeof ArchiveShapeSchema>;

/** Items of a component across its groups. */
export function shapeItems(shape: ComponentShape): number {
  return Object.values(shape.groups).reduce((sum, group) => sum + group.items, 0);
}
