import { z } from 'zod';

/** `health` of orkestra-backup.json: when a backup is an anomaly, and when `status` calls the newest one stale. */
export const HealthSettingsSchema = z.strictObject({
  /** A collection, Redis database, bucket or folder that lost more than this share of its items (0–1). */
  shrinkThreshold: z.number().gt(0).lt(1).default(0.5),
  /** An archive smaller than the baseline's by more than this share (0–1). */
  archiveShrinkThreshold: z.number().gt(0).lt(1).default(0.5),
  /** `status` exits 1 when the newest sound backup is older than this. */
  maxAgeHours: z.number().positive().default(26),
});
export type HealthSettings = z.infer<typeof HealthSettingsSchema>;

export const DEFAULT_HEALTH_SETTINGS: HealthSettings = HealthSettingsSchema.parse({});
