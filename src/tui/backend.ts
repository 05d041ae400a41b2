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
  type OpenedArchive,
  type RestoreOutcome,
  type RestorePreview,
} from '../core/restore.js';
import { listArchives, newestFirst, type ArchiveListing } from '../core/archiveListing.js';
import { settingsKeyring } from '../core/archiveKeys.js';
import { runDrill, type DrillReport } from '../core/drill/runDrill.js';
import { loadProjectConfig } from '../app/projectConfig.js';
import { openRunMonitor, reportingTo, watchRun } from '../app/notify/index.js';
import { drillFailures } from '../core/drill/drillReport.js';
import type { Project } from '../model/project.js';
import { projectBackupStatus } from '../app/backupStatus.js';
import { historyPath, readHistory } from '../core/history/historyFile.js';
import type { BackupStatus } from '../core/status/backupStatus.js';
import type { HistoryCommand, HistoryRecord } from '../model/history.js';
import { RunRecorder } from '../app/runRecorder.js';
import type { Component } from '../core/component.js';
import {
  browseArchive,
  browsableComponents,
  picksAsSelectors,
  type BrowsableComponent,
  type BrowsePage,
  type BrowseRequest,
  type PicksAsSelectors,
  type PicksByComponent,
} from '../core/browse.js';
import type { Session } from '../core/session.js';
import type { SelectorValues } from '../core/restoreSelection.js';

export type {
  ArchiveListing,
  BackupStatus,
  BrowsableComponent,
  BrowsePage,
  BrowseRequest,
  DrillReport,
  HistoryRecord,
  PicksAsSelectors,
  PicksByComponent,
  RestorePreview,
  SelectorValues,
};

export interface ComponentChoice {
  name: string;
  title: string;
  available: boolean;
  reason?: string;
  /** How it is reached when available: its container, or REDIS_URL/MONGO_URI/RUSTFS_ENDPOINT without one. */
  detail?: string;
}

/** The status screen: the health of the backups, and the last runs of the history (oldest first). */
export interface StatusView {
  status: BackupStatus;
  runs: HistoryRecord[];
}

/** Runs the status screen lists. */
const LAST_RUNS = 10;

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
  /** The check and plans of a restore; `selectors` narrow it as the command line's selector flags do. */
  previewRestore: (
    file: string,
    components: string[] | undefined,
    onEvent: EventListener,
    signal: AbortSignal,
    selectors?: SelectorValues,
  ) => Promise<RestorePreview>;
  /** The archive's components, each with whether the picker can list and pick its items. */
  browsable: (file: string) => Promise<BrowsableComponent[]>;
  /** One page of a component's groups or of one group's items, read from the archive; `signal` stops the read. */
  browse: (file: string, request: BrowseRequest, signal: AbortSignal) => Promise<BrowsePage>;
  /** The selector values that restore exactly the picks, or why they cannot be restored in one run. */
  picksAsSelectors: (file: string, picks: PicksByComponent) => Promise<PicksAsSelectors>;
  restore: (preview: RestorePreview, overwrite: OverwritePolicy, onEvent: EventListener, signal: AbortSignal) => Promise<RestoreOutcome>;
  /** A restore drill of the archive into throwaway copies of the stack (the live one is only read). */
  drill: (file: string, onEvent: EventListener, signal: AbortSignal) => Promise<DrillReport>;
  /** The health of the backups (what `orkestra-backup status` prints) and the last runs of the history. */
  status: (signal: AbortSignal) => Promise<StatusView>;
}

export async function createBackend(common: SessionOptions): Promise<TuiBackend> {
  // The project is opened once; each operation gets a session of its own over it.
  const project = await openSessionProject(common);
  const components = await loadComponents(project);
  const session = (onEvent: EventListener, signal: AbortSignal) => Promise.resolve(sessionFor(project, onEvent, signal, components));
  const quiet = () => undefined;
  // The picker's reads: the archive opened for each (its manifest is its first entry), closed after.
  const withArchive = async <T>(file: string, read: (opened: OpenedArchive, current: Session) => Promise<T> | T): Promise<T> => {
    const current = await session(quiet, new AbortController().signal);
    const opened = await openRestoreArchive(file, current);
    try {
      return await read(opened, current);
    } finally {
      await opened.location.close();
    }
  };
  const browseOptions = (current: Session) => ({
    components: current.components,
    fromArchive: current.fromArchive,
    setting: (key: string) => project.setting(key),
  });
  const backend: TuiBackend = {
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
    ...recordedRuns(project, components),
    async listArchives() {
      const keyring = settingsKeyring((key) => project.setting(key));
      const local = await listArchives(project.backupsDir, keyring);
      const context = {
        services: answeringAtOnce(),
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
    async previewRestore(file, components, onEvent, signal, selectors) {
      const current = await session(onEvent, signal);
      const opened = await openRestoreArchive(file, current);
      const chosen = selectRestoreComponents(current, opened, components?.join(','), selectors);
      return checkAndPlan(current, opened, chosen);
    },
    browsable: (file) => withArchive(file, (opened, current) => browsableComponents(opened.manifest, browseOptions(current))),
    browse: (file, request, signal) =>
      withArchive(file, (opened, current) => browseArchive(opened.location, request, browseOptions(current), signal)),
    picksAsSelectors: (file, picks) =>
      withArchive(file, (opened, current) => picksAsSelectors(opened.manifest, picks, browseOptions(current))),
    async status(signal) {
      const [status, { records }] = await Promise.all([
        projectBackupStatus(project, { onEvent: quiet, signal, services: answeringAtOnce() }),
        readHistory(historyPath(project.backupsDir), LAST_RUNS),
      ]);
      return { status, runs: records };
    },
  };
  return monitored(backend, project);
}

/**
 * The runs the history records — backup, restore, drill — each through a run recorder, as the
 * command line's are; a warning that the history cannot be written is a step line.
 */
function recordedRuns(project: Project, components: readonly Component[]): Pick<TuiBackend, 'backup' | 'restore' | 'drill'> {
  const session = (onEvent: EventListener, signal: AbortSignal) => Promise.resolve(sessionFor(project, onEvent, signal, components));
  const recorder = (command: HistoryCommand, onEvent: EventListener, signal: AbortSignal) =>
    new RunRecorder(command, {
      project: () => Promise.resolve(project),
      signal,
      warn: (line) => onEvent({ type: 'step', message: `warning: ${line}` }),
    });
  return {
    async backup(selected, onEvent, signal) {
      const run = recorder('backup', onEvent, signal);
      const outcome = await run.run(
        async () => {
          const current = await session(run.listen(onEvent), signal);
          const chosen = current.components.filter((component) => selected.includes(component.name));
          const { health } = await loadProjectConfig(project.dir);
          const plan = await planBackup(current, { all: false, components: chosen }, undefined, { health });
          const written = await runBackup(current, plan);
          run.backedUp(written);
          return written;
        },
        () => 0,
      );
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
    async restore(preview, overwrite, onEvent, signal) {
      const run = recorder('restore', onEvent, signal);
      run.opened(preview.archive);
      return run.run(
        async () => {
          const outcome = await runRestore(await session(run.listen(onEvent), signal), preview.archive, preview.plans, overwrite);
          run.restored(outcome);
          return outcome;
        },
        (outcome) => (outcome.failed ? 1 : 0),
      );
    },
    async drill(file, onEvent, signal) {
      const run = recorder('drill', onEvent, signal);
      return run.run(
        async () => {
          const current = await session(run.listen(onEvent), signal);
          const config = await loadProjectConfig(project.dir);
          const opened = await openRestoreArchive(file, current);
          run.opened(opened);
          try {
            const report = await runDrill(current, opened, { images: {}, config });
            run.drilled(report);
            return report;
          } finally {
            await opened.location.close();
          }
        },
        (report) => (report.ok ? 0 : 1),
      );
    },
  };
}

/** Backups and drills tell their outcome where ORKESTRA_NOTIFY and ORKESTRA_HEALTHCHECK_URL say, as on the command line. */
function monitored(backend: TuiBackend, project: Project): TuiBackend {
  const monitor = (command: string, onEvent: EventListener) =>
    openRunMonitor(
      command,
      { setting: (key) => project.setting(key), dockerDir: project.dockerDir, environment: project.environment },
      // A warning is a step of the run: the screen shows it where stderr would garble the interface.
      { pingsHealthcheck: true, warn: (line) => onEvent({ type: 'step', message: line }) },
    );
  return {
    ...backend,
    async backup(components, onEvent, signal) {
      const watching = await monitor('backup', onEvent);
      return watchRun(watching, () => backend.backup(components, reportingTo(watching, onEvent), signal), {
        result: (view) => ({ exitCode: 0, archive: view.archivePath, bytes: view.archiveBytes, anomalies: view.anomalies }),
      });
    },
    async drill(file, onEvent, signal) {
      const watching = await monitor('drill', onEvent);
      return watchRun(watching, () => backend.drill(file, reportingTo(watching, onEvent), signal), {
        result: (report) => ({
          exitCode: report.ok ? 0 : 1,
          archive: file,
          error: report.ok ? undefined : `drill failed: ${drillFailures(report).join('; ')}`,
        }),
      });
    },
  };
}

/** A screen must answer at once: off-site requests without retry pauses and with a short timeout (work started from it retries as usual). */
function answeringAtOnce() {
  const services = createServices();
  return { ...services, tuning: { ...services.tuning, offsiteRetryPausesMs: [], offsiteTimeoutMs: 10_000 } };
}
