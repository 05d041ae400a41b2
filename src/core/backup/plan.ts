import type { Writable } from 'node:stream';
import type { Manifest } from '../../archive/manifest.js';
import type { Compression, CompressionChoice } from '../../archive/compression.js';
import type { Component } from '../component.js';
import type { Anomaly } from '../../model/history.js';
import type { HealthSettings } from '../../model/health.js';
import type { ArchivePlacement } from './targets.js';

export interface BackupPlan extends ArchivePlacement {
  /** What will be captured, in canonical order. */
  readonly components: readonly Component[];
  /** Unavailable components left out of a `backup all`, with the reason. */
  readonly skipped: readonly { component: string; reason: string }[];
  /** How each captured component is reached ("container orkestra-redis is running", "Redis at … (REDIS_URL)"). */
  readonly transports: readonly { component: string; detail: string }[];
  /** --split-secrets: `secrets` goes into an archive of its own, with its own destination and encryption. */
  readonly secrets?: ArchivePlacement;
  /** gzip (`.tar.gz`) or zstd (`.tar.zst`), and the level; both archives of a split backup share it. */
  readonly compression: Compression;
  /** When the archive is an anomaly against its baseline (orkestra-backup.json's `health`). */
  readonly health: HealthSettings;
  /** --accept-anomaly: what differs from the baseline was intended. */
  readonly acceptAnomaly: boolean;
}

export interface WrittenArchive {
  readonly archivePath: string;
  readonly archiveBytes: number;
  readonly manifest: Manifest;
}

export interface BackupOutcome extends WrittenArchive {
  readonly skipped: BackupPlan['skipped'];
  readonly elapsedMs: number;
  /** The secrets archive of a split backup. */
  readonly secrets?: WrittenArchive;
  /** How the archive differs from its baseline (items lost, a bucket gone); empty when it does not. */
  readonly anomalies?: readonly Anomaly[];
  /** The archive it was compared with. */
  readonly baseline?: string;
  /** --accept-anomaly: its anomalies were intended; it becomes the baseline. */
  readonly accepted?: boolean;
}

export interface BackupOptions {
  /** Where `-o -` writes. */
  standardOutput?: Writable;
  /** --split-secrets (output undefined: beside the data archive) or --secrets-output. */
  splitSecrets?: { output?: string };
  /** --compression (default gzip at ORKESTRA_GZIP_LEVEL). */
  compression?: CompressionChoice;
  /** The project's `health` settings (defaults when absent). */
  health?: HealthSettings;
  /** --accept-anomaly. */
  acceptAnomaly?: boolean;
}

/** One backup run: its start and id, shared by both archives of a split backup. */
export interface RunIdentity {
  readonly started: Date;
  readonly backupId: string;
  readonly split?: 'data' | 'secrets';
  readonly compression: Compression;
}
