import { createServices, loadComponents, openSessionProject, sessionFor, type SessionOptions } from '../app/session.js';
import { configuredOffsiteShelf } from '../core/offsite.js';
import { componentStatuses, planBackup, runBackup } from '../core/backup/index.js';
import type { OverwritePolicy } from '../core/component.js';
import type { EventListener } from '../model/events.js';
import {
  openRestoreArchive,
  previewRestore as checkAndPlan,
  runRestore,
  selectRestoreComponents,
  type RestoreOutcome,
  type RestorePreview,
} from '../core/restore.js';
import { listArchives, newestFirst, type ArchiveListing } from '../core/archiveListing.js';
import { settingsKeyring } from '../core/archiveKeys.js';
import { runDrill, type DrillReport } from '../core/drill/runDrill.js';
import { loadProjectConfig } from '../app/projectConfig.js';

export type { ArchiveListing, DrillReport, RestorePreview };

export interface ComponentChoice {
  name: string;
  title: string;
  available: boolean;
  reason?: string;
  /** How it is reached when available: its container, or REDIS_URL/MONGO_URI/RUSTFS_ENDPOINT without one. */
  detail?: string;
}

export interface BackupResultView {
  archivePath: string;
  archiveBytes: number;
  elapsedMs: number;
  components: string[];
  skipped: { component: string; reason: string }[];
  /** How the archive differs from its baseline, one line each; absent or empty when it does not. */
  anomalies?: string[];
  /** The archive it was compared with. */
  baseline?: string;
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
  /** A restore drill of the archive into throwaway copies of the stack (the live one is only read). */
  drill: (file: string, onEvent: EventListener, signal: AbortSignal) => Promise<DrillReport>;
}

export async function createBackend(common: SessionOptions): Promise<TuiBackend> {
  // The project is opened once; each operation gets a session of its own over it.
  const project = await openSessionProject(common);
  const components = await loadComponents(project);
  const session = (onEvent: EventListener, signal: AbortSignal) => Promise.resolve(sessionFor(project, onEvent, signal, components));
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
        detail: availability.available ? availability.detail : undefined,
      }));
    },
    async backup(selected, onEvent, signal) {
      const current = await session(onEvent, signal);
      const chosen = current.components.filter((component) => selected.includes(component.name));
      const { health } = await loadProjectConfig(project.dir);
      const plan = await planBackup(current, { all: false, components: chosen }, undefined, { health });
      const outcome = await runBackup(current, plan);
      return {
        archivePath: outcome.archivePath,
        archiveBytes: outcome.archiveBytes,
        elapsedMs: outcome.elapsedMs,
        components: outcome.manifest.components,
        skipped: [...outcome.skipped],
        anomalies: (outcome.anomalies ?? []).map((anomaly) => anomaly.message),
        baseline: outcome.baseline,
      };
    },
    async listArchives() {
      const keyring = settingsKeyring((key) => project.setting(key));
      const local = await listArchives(project.backupsDir, keyring);
      // A picker must answer at once: no retry pauses, a short timeout (a restore picked from it retries as usual).
      const services = createServices();
      const context = {
        services: { ...services, tuning: { ...services.tuning, offsiteRetryPausesMs: [], offsiteTimeoutMs: 10_000 } },
        setting: (key: string) => project.setting(key),
        onEvent: quiet,
        signal: new AbortController().signal,
      };
      const shelf = configuredOffsiteShelf(context);
      if (!shelf) return local;
      try {
        const offsite = await listArchives(shelf, keyring);
        return [...local, ...offsite].sort(newestFirst);
      } catch (error) {
        // The local archives stay usable when the off-site store is away; the reason is listed.
        return [...local, { file: shelf.where, name: shelf.where, bytes: 0, modifiedMs: 0, problem: (error as Error).message }];
      } finally {
        shelf.close();
      }
    },
    async previewRestore(file, components, onEvent, signal) {
      const current = await session(onEvent, signal);
      const opened = await openRestoreArchive(file, current);
      const chosen = selectRestoreComponents(current, opened, components?.join(','));
      return checkAndPlan(current, opened, chosen);
    },
    async restore(preview, overwrite, onEvent, signal) {
      return runRestore(await session(onEvent, signal), preview.archive, preview.plans, overwrite);
    },
    async drill(file, onEvent, signal) {
      const current = await session(onEvent, signal);
      const config = await loadProjectConfig(project.dir);
      const opened = await openRestoreArchive(file, current);
      try {
        return await runDrill(current, opened, { images: {}, config });
      } finally {
        await opened.location.close();
      }
    },
  };
}
