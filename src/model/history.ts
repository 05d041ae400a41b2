import { z } from 'zod';
import { ArchiveShapeSchema } from './shape.js';

export const HISTORY_COMMANDS = ['backup', 'restore', 'drill', 'verify', 'prune', 'accept'] as const;
export type HistoryCommand = (typeof HISTORY_COMMANDS)[number];

/** A way a new backup differs from its baseline that may mean data was lost. */
export const AnomalySchema = z.object({
  /** The component it concerns; absent for the archive as a whole (its size, a key name). */
  component: z.string().optional(),
  /** `empty`, `shrunk`, `vanished`, `smaller-archive`, `key-name-vanished`: for machines. */
  kind: z.string().min(1),
  /** One line for people ("redis: database 0 lost 62 % of its keys (1,204 → 457)"). */
  message: z.string().min(1),
});
export type Anomaly = z.infer<typeof AnomalySchema>;

/** One archive a run wrote or read. */
export const HistoryArchiveSchema = z.object({
  /** Its path or s3:// URL. */
  location: z.string().min(1),
  bytes: z.number().int().nonnegative().optional(),
  backupId: z.string().optional(),
  split: z.enum(['data', 'secrets']).optional(),
});
export type HistoryArchive = z.infer<typeof HistoryArchiveSchema>;

/** What a run did with one component. */
export const HistoryComponentSchema = z.object({
  /** Bytes of its files in the archive. */
  bytes: z.number().int().nonnegative().optional(),
  seconds: z.number().nonnegative().optional(),
  ok: z.boolean().optional(),
  summary: z.string().optional(),
});
export type HistoryComponent = z.infer<typeof HistoryComponentSchema>;

/**
 * One line of the history file: one run of a command, whatever its result. Unknown fields are
 * kept, so a newer version's lines still read; a line that does not parse is skipped.
 */
export const HistoryRecordSchema = z.looseObject({
  version: z.literal(1),
  command: z.enum(HISTORY_COMMANDS),
  startedAt: z.string().min(1),
  endedAt: z.string().min(1),
  result: z.enum(['success', 'failure']),
  exitCode: z.number().int(),
  /** The failure's one-line message, secrets scrubbed. */
  error: z.string().optional(),
  environment: z.string(),
  host: z.string(),
  archives: z.array(HistoryArchiveSchema).optional(),
  components: z.record(z.string(), HistoryComponentSchema).optional(),
  /** backup: what the archive holds, for the next backup's anomaly checks. */
  shape: ArchiveShapeSchema.optional(),
  /** backup: how it differs from its baseline; empty when it does not. */
  anomalies: z.array(AnomalySchema).optional(),
  /** The archive this backup was compared with. */
  baseline: z.string().optional(),
  /** backup with --accept-anomaly, and accept: this archive's anomalies were intended, it is a baseline. */
  accepted: z.boolean().optional(),
  /** drill: whether every check passed. */
  drillOk: z.boolean().optional(),
  /** A selective drill: per component, its selector flags (`{ "redis": { "keys": ["session:*"] } }`); it proves that selection only. */
  drillSelection: z.record(z.string(), z.record(z.string(), z.array(z.string()))).optional(),
});
export type HistoryRecord = z.infer<typeof HistoryRecordSchema>;
