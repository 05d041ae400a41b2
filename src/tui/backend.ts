import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readManifest } from '../archive/reader.js';
import { openSession } from '../cli/context.js';
import type { CommonArgs } from '../cli/args.js';
import { componentStatuses, planBackup, runBackup } from '../core/backup.js';
import type { OverwritePolicy } from '../core/component.js';
import type { EventListener } from '../core/events.js';
import { printable } from '../core/format.js';
import { openProject } from '../core/project.js';
import {
  openRestoreArchive,
  previewRestore as checkAndPlan,
  runRestore,
  selectRestoreComponents,
  type RestoreOutcome,
  type RestorePreview,
} from '../core/restore.js';
import { COMPONENTS } from '../components/index.js';

export type { RestorePreview };

export interface ComponentChoice {
  name: string;
  title: string;
  available: boolean;
  reason?: string;
}

export interface ArchiveListing {
  file: string;
  name: string;
  bytes: number;
  modifiedMs: number;
  environment?: string;
  createdAt?: string;
  components?: string[];
  /** Why the manifest could not be read; the archive is still listed. */
  problem?: string;
}

export interface BackupResultView {
  archivePath: string;
  archiveBytes: number;
  elapsedMs: number;
  components: string[];
  skipped: { component: string; reason: string }[];
}

/**
 * Everything the screens may ask of the core, and nothing else: the TUI never reaches Docker,
 * S3 or the file system itself. Tests replace it with a recording fake.
 */
export interface TuiBackend {
  readonly projectDir: string;
  componentChoices: () => Promise<ComponentChoice[]>;
  backup: (components: string[], onEvent: EventListener, signal: AbortSignal) => Promise<BackupResultView>;
  listArchives: () => Promise<ArchiveListing[]>;
  previewRestore: (file: string, components: string[] | undefined, onEvent: EventListener, signal: AbortSignal) => Promise<RestorePreview>;
  restore: (preview: RestorePreview, overwrite: OverwritePolicy, onEvent: EventListener, signal: AbortSignal) => Promise<RestoreOutcome>;
}

export async function createBackend(common: CommonArgs): Promise<TuiBackend> {
  const project = await openProject({
    projectDir: common.projectDir,
    environment: common.env,
    containers: common.containers,
    settings: common.settings,
  });
  const session = (onEvent: EventListener, signal: AbortSignal) => openSession(common, onEvent, signal);
  const quiet = () => undefined;
  return {
    projectDir: project.dir,
    async componentChoices() {
      const statuses = await componentStatuses(await session(quiet, new AbortController().signal));
      return statuses.map(({ component, availability }) => ({
        name: component.name,
        title: component.title,
        available: availability.available,
        reason: availability.available ? undefined : availability.reason,
      }));
    },
    async backup(components, onEvent, signal) {
      const current = await session(onEvent, signal);
      const chosen = COMPONENTS.filter((component) => components.includes(component.name));
      const plan = await planBackup(current, { all: false, components: chosen });
      const outcome = await runBackup(current, plan);
      return {
        archivePath: outcome.archivePath,
        archiveBytes: outcome.archiveBytes,
        elapsedMs: outcome.elapsedMs,
        components: outcome.manifest.components,
        skipped: [...outcome.skipped],
      };
    },
    listArchives: () => listArchives(project.backupsDir),
    async previewRestore(file, components, onEvent, signal) {
      const current = await session(onEvent, signal);
      const opened = await openRestoreArchive(file);
      const chosen = selectRestoreComponents(current, opened, components?.join(','));
      return checkAndPlan(current, opened, chosen);
    },
    async restore(preview, overwrite, onEvent, signal) {
      return runRestore(await session(onEvent, signal), preview.archive, preview.plans, overwrite);
    },
  };
}

/** The archives in ./backups/, newest first, described from their manifests alone. */
async function listArchives(folder: string): Promise<ArchiveListing[]> {
  const names = (await readdir(folder).catch(() => [])).filter((name) => !name.startsWith('.') && /\.(tar\.gz|tgz)$/.test(name));
  const listings = await Promise.all(
    names.map(async (name): Promise<ArchiveListing> => {
      const file = join(folder, name);
      const info = await stat(file);
      const base = { file, name, bytes: info.size, modifiedMs: info.mtimeMs };
      try {
        const { manifest } = await readManifest(file);
        return {
          ...base,
          environment: printable(manifest.environment),
          createdAt: printable(manifest.createdAt),
          components: manifest.components.map(printable),
        };
      } catch (error) {
        return { ...base, problem: printable((error as Error).message) };
      }
    }),
  );
  return listings.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.modifiedMs - a.modifiedMs);
}
