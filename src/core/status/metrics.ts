import { open, rename, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../../base/errors.js';
import { ownedSuffix, removeTemporary, trackTemporary, untrackTemporary } from '../../base/temporaryFiles.js';
import type { BackupStatus, NewestBackup } from './backupStatus.js';

type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly samples: readonly { readonly labels: Labels; readonly value: number }[];
}

/**
 * The status in the Prometheus text exposition format (version 0.0.4), for node_exporter's
 * textfile collector: every family a gauge, the environment a label of each sample. Figures
 * only, never a secret: names of components and archives at most.
 */
export function statusMetrics(status: BackupStatus): string {
  const environment = { environment: status.environment };
  const perBackup = (pick: (newest: NewestBackup) => number | undefined) =>
    status.components.flatMap((component) =>
      Object.entries(component.newest).flatMap(([destination, newest]) => {
        const value = newest && pick(newest);
        return value === undefined ? [] : [{ labels: { ...environment, component: component.name, destination }, value }];
      }),
    );
  const drill = status.lastDrill;
  const families: Family[] = [
    {
      name: 'orkestra_backup_healthy',
      help: 'Whether orkestra-backup status found the backups healthy (1) or not (0): its exit code 0 or 1.',
      samples: [{ labels: environment, value: status.reasons.length === 0 ? 1 : 0 }],
    },
    {
      name: 'orkestra_backup_last_success_timestamp_seconds',
      help: 'When the newest sound backup holding the component was made, in seconds since the epoch.',
      samples: perBackup((newest) => Date.parse(newest.createdAt) / 1000),
    },
    {
      name: 'orkestra_backup_age_seconds',
      help: 'Age of the newest sound backup holding the component, when the status was taken.',
      samples: perBackup((newest) => newest.ageSeconds),
    },
    {
      name: 'orkestra_backup_size_bytes',
      help: "Bytes of the component's files in its newest sound backup (from the archive's index).",
      samples: perBackup((newest) => newest.bytes),
    },
    {
      name: 'orkestra_backup_duration_seconds',
      help: 'Seconds the backup that made the newest sound archive spent on the component (from the history).',
      samples: perBackup((newest) => newest.backupSeconds),
    },
    {
      name: 'orkestra_backup_last_drill_success',
      help: 'Whether the last restore drill passed (1) or failed (0); absent when no drill is recorded.',
      samples: drill ? [{ labels: environment, value: drill.ok ? 1 : 0 }] : [],
    },
    {
      name: 'orkestra_backup_last_drill_timestamp_seconds',
      help: 'When the last restore drill ended, in seconds since the epoch.',
      samples: drill && !Number.isNaN(Date.parse(drill.at)) ? [{ labels: environment, value: Date.parse(drill.at) / 1000 }] : [],
    },
    {
      name: 'orkestra_backup_drill_restore_seconds',
      help: 'Seconds the last restore drill took to restore the component.',
      samples: Object.entries(drill?.restoreSeconds ?? {}).map(([component, value]) => ({ labels: { ...environment, component }, value })),
    },
    {
      name: 'orkestra_backup_anomalies',
      help: 'Anomalies of the newest backups that are not accepted (lost items, a smaller archive).',
      samples: [{ labels: environment, value: status.openAnomalies.reduce((sum, open) => sum + open.anomalies.length, 0) }],
    },
    {
      name: 'orkestra_backup_key_drift',
      help: "Whether docker/.env's encryption keys differ from those the newest backup recorded (1) or not (0); absent when unknown.",
      samples: status.keyDrift.state === 'unknown' ? [] : [{ labels: environment, value: status.keyDrift.state === 'drift' ? 1 : 0 }],
    },
  ];
  return families
    .filter((family) => family.samples.length > 0)
    .map(
      (family) =>
        `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} gauge\n` +
        family.samples.map((sample) => `${family.name}{${labelText(sample.labels)}} ${sampleValue(sample.value)}\n`).join(''),
    )
    .join('');
}

const METRICS_HINT = "Give a file in a folder this user can write, such as node_exporter's --collector.textfile.directory.";

/**
 * Refuses a metrics file that cannot be written before the status is taken: its folder must
 * exist and take a new file (one is created there and removed: mode bits do not stop root, a
 * read-only or special file system does).
 */
export async function checkMetricsTarget(path: string): Promise<void> {
  const folder = dirname(path);
  const folderInfo = await stat(folder).catch(() => undefined);
  if (!folderInfo) throw new UsageError(`--metrics ${path}: the folder ${folder} does not exist.`, { hint: METRICS_HINT });
  if (!folderInfo.isDirectory()) throw new UsageError(`--metrics ${path}: ${folder} is not a folder.`, { hint: METRICS_HINT });
  const target = await stat(path).catch(() => undefined);
  if (target?.isDirectory()) throw new UsageError(`--metrics ${path} is a folder, not a file.`, { hint: METRICS_HINT });
  // The rename would replace a device, a pipe or a socket (--metrics /dev/stdout, /dev/null) with a plain file.
  if (target !== undefined && !target.isFile())
    throw new UsageError(`--metrics ${path} is not a plain file (a device, a pipe or a socket).`, { hint: METRICS_HINT });
  const probe = temporaryBeside(path);
  trackTemporary(probe);
  try {
    await (await open(probe, 'wx', 0o644)).close();
  } catch (error) {
    throw new UsageError(`--metrics ${path}: the folder ${folder} takes no new file (${errorWords(error)}).`, { hint: METRICS_HINT });
  } finally {
    await removeTemporary(probe);
  }
}

/**
 * Writes the metrics file atomically: a hidden temporary file in the same folder (which the
 * collector, reading `*.prom`, ignores), flushed, then renamed over the file, so a scrape never
 * reads half a file. 0644: the collector may run as another user, and the file holds no secret.
 */
export async function writeMetricsFile(path: string, text: string): Promise<void> {
  const temporary = temporaryBeside(path);
  trackTemporary(temporary);
  try {
    const file = await open(temporary, 'wx', 0o644);
    try {
      await file.chmod(0o644);
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
    untrackTemporary(temporary);
  } catch (error) {
    await removeTemporary(temporary);
    throw new UsageError(`cannot write the metrics file ${path} (${errorWords(error)}).`, { hint: METRICS_HINT });
  }
}

function temporaryBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${ownedSuffix()}.tmp`);
}

const ERROR_WORDS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'no such file or folder',
};

function errorWords(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === undefined ? (error as Error).message : (ERROR_WORDS[code] ?? code);
}

function labelText(labels: Labels): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
    .join(',');
}

/** Backslash, double quote and line feed are escaped in a label value. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Backslash and line feed are escaped in HELP text. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function sampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return String(value);
}
