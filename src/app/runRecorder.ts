import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { isOffsiteUrl } from '../s3/offsite/offsiteUrl.js';
import { exitCodeFor, OutcomeError, UsageError } from '../base/errors.js';
import { firstLine, plural } from '../base/format.js';
import type { Manifest } from '../archive/manifest.js';
import type { BackupOutcome, WrittenArchive } from '../core/backup/index.js';
import { drillFailures } from '../core/drill/drillReport.js';
import type { DrillReport } from '../core/drill/runDrill.js';
import type { ExaminedArchive } from '../core/examine.js';
import type { PrunePlan } from '../core/prune.js';
import type { OpenedArchive, RestoreOutcome } from '../core/restore.js';
import type { EventListener, Phase } from '../model/events.js';
import type { HistoryArchive, HistoryCommand, HistoryComponent, HistoryRecord } from '../model/history.js';
import type { Project } from '../model/project.js';
import { writeRunRecord } from './historyWriter.js';
import { archiveShape } from '../core/health/checkBackup.js';

/** The step whose time is a component's `seconds`: its own work in each command that has one. */
const TIMED_PHASE: Partial<Record<HistoryCommand, Phase>> = { backup: 'backup', restore: 'restore', drill: 'restore' };

export interface RunRecorderOptions {
  /**
   * Opens the deployment the run belongs to, once the run has ended; a run whose project cannot
   * be opened is not recorded. Undefined: the run is not recorded at all (a dry run).
   */
  readonly project: (() => Promise<Project>) | undefined;
  readonly signal: AbortSignal;
  /** Where a history that cannot be written is said, in one line: it never fails the run. */
  readonly warn: (line: string) => void;
}

/**
 * What one run of backup, restore, drill, verify or prune did, gathered while it runs and
 * appended to the deployment's history when it ends, whatever the result. The command line and
 * the interactive interface both run their work through one (`run`), so a run is recorded the
 * same way wherever it was started.
 */
export class RunRecorder {
  private readonly startedAt = new Date();
  private readonly archives: HistoryArchive[] = [];
  private readonly components: Record<string, HistoryComponent> = {};
  private readonly manifests: Manifest[] = [];
  private readonly starts = new Map<string, number>();
  private extra: Pick<HistoryRecord, 'shape' | 'anomalies' | 'baseline' | 'accepted' | 'drillOk' | 'drillSelection'> = {};
  /** Why a run that ended without an error still failed (a drill's failed check, verify's problems). */
  private failure?: string;
  private finished = false;

  constructor(
    readonly command: HistoryCommand,
    private readonly options: RunRecorderOptions,
  ) {}

  /**
   * Runs the work and records it when it ends: its exit code from `exitCodeOf`, or from the error
   * it threw (after an interrupt, the interrupt's). The error is thrown on unchanged.
   */
  async run<T>(work: () => Promise<T>, exitCodeOf: (value: T) => number): Promise<T> {
    let value: T;
    try {
      value = await work();
    } catch (error) {
      const reported = reportedFailure(error, this.options.signal);
      await this.finish(exitCodeFor(reported), reported);
      throw error;
    }
    await this.finish(exitCodeOf(value));
    return value;
  }

  /**
   * The run's events, passed on, with the time each component's own work took: from the start
   * to the end of its `backup` step in a backup, of its `restore` step in a restore or a drill.
   */
  listen(onEvent: EventListener): EventListener {
    const timed = TIMED_PHASE[this.command];
    return (event) => {
      onEvent(event);
      if (timed === undefined || !('phase' in event) || event.phase !== timed) return;
      if (event.type === 'component-start') this.starts.set(event.component, Date.now());
      else if (event.type === 'component-done')
        this.noteComponent(event.component, { seconds: event.elapsedMs / 1000, ok: true, summary: event.summary });
      else if (event.type === 'component-failed') {
        const started = this.starts.get(event.component);
        const seconds = started === undefined ? undefined : (Date.now() - started) / 1000;
        this.noteComponent(event.component, { seconds, ok: false, summary: event.message });
      }
    };
  }

  /** A backup's archives (both of a split backup), what they hold, and how they compare with their baseline. */
  backedUp(outcome: BackupOutcome): void {
    // The data archive first: it names the run (`history` shows the first archive).
    for (const written of outcome.secrets ? [outcome, outcome.secrets] : [outcome]) this.addWritten(written);
    const shape = archiveShape(outcome);
    this.extra = {
      ...this.extra,
      ...(shape ? { shape } : {}),
      ...(outcome.anomalies ? { anomalies: [...outcome.anomalies] } : {}),
      ...(outcome.baseline !== undefined ? { baseline: outcome.baseline } : {}),
      ...(outcome.accepted !== undefined ? { accepted: outcome.accepted } : {}),
    };
  }

  /** The archive a restore or drill reads (and the secrets archive of a split pair): noted before the work, so a failure names it. */
  opened(archive: OpenedArchive): void {
    this.archives.push(archiveOf(archive.file, archive.location.size, archive.manifest));
    this.manifests.push(archive.manifest);
  }

  restored(outcome: RestoreOutcome): void {
    if (outcome.failed) this.fail(`restore of ${outcome.failed.component} failed: ${outcome.failed.message}`);
  }

  /** A selective drill's selection, noted before its copies start: a failed or interrupted one is recorded as selective too. */
  drillSelected(selection: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>): void {
    this.extra = { ...this.extra, drillSelection: copiedSelection(selection) };
  }

  drilled(report: DrillReport): void {
    for (const component of report.components) {
      const ok = !component.failure && component.checks.every((check) => check.ok);
      this.noteComponent(component.name, { ok, summary: component.failure ?? component.restored });
    }
    this.extra = { ...this.extra, drillOk: report.ok, ...(report.selective ? { drillSelection: drillSelection(report) } : {}) };
    if (!report.ok) this.fail(`drill failed: ${drillFailures(report).join('; ')}`);
  }

  verified(examined: ExaminedArchive, problems: readonly string[], count: number): void {
    this.archives.push(archiveOf(examined.file, examined.bytes, examined.manifest));
    if (examined.manifest) {
      this.manifests.push(examined.manifest);
      for (const name of examined.manifest.components) this.noteComponent(name, {});
    }
    if (count > 0) this.fail(`${plural(count, 'problem')}: ${problems[0] ?? 'see verify'}`);
  }

  /** The archives a prune removed. */
  pruned(plan: PrunePlan, removed: readonly string[]): void {
    for (const { candidate } of plan.decisions) {
      if (removed.includes(candidate.listing.name))
        this.archives.push({ location: candidate.listing.file, bytes: candidate.listing.bytes });
    }
  }

  /** A run that ends without an error but failed all the same (--strict, a failed check): its one-line reason. */
  fail(message: string): void {
    this.failure ??= message;
  }

  /** Appends the run's record; only the first call counts. Bad input (exit 2) touched nothing and is not recorded. */
  async finish(exitCode: number, error?: unknown): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    if (exitCode === 2 || this.options.project === undefined) return;
    let project: Project;
    try {
      project = await this.options.project();
    } catch {
      return;
    }
    const components = this.componentsWithBytes();
    const record: HistoryRecord = {
      version: 1,
      command: this.command,
      startedAt: this.startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      result: exitCode === 0 ? 'success' : 'failure',
      exitCode,
      environment: project.environment,
      host: hostname(),
      ...(this.archives.length > 0 ? { archives: this.archives } : {}),
      ...(Object.keys(components).length > 0 ? { components } : {}),
      ...this.extra,
    };
    try {
      await writeRunRecord(project, record, exitCode === 0 ? undefined : (error ?? this.failure), this.options);
    } catch (failure) {
      // Writing the history never fails the run, whatever goes wrong in it.
      this.options.warn(`the history of this run could not be written (${firstLine(String(failure))}); the run itself is not affected.`);
    }
  }

  private addWritten(written: WrittenArchive): void {
    this.archives.push(archiveOf(written.archivePath, written.archiveBytes, written.manifest));
    this.manifests.push(written.manifest);
    for (const name of written.manifest.components) this.noteComponent(name, {});
  }

  private noteComponent(name: string, facts: HistoryComponent): void {
    const defined = Object.fromEntries(Object.entries(facts).filter(([, value]) => value !== undefined));
    this.components[name] = { ...this.components[name], ...defined };
  }

  /** Each component's bytes in its archive, from the manifest's index. */
  private componentsWithBytes(): Record<string, HistoryComponent> {
    const result: Record<string, HistoryComponent> = {};
    for (const [name, facts] of Object.entries(this.components)) {
      const bytes = this.manifests.map((manifest) => manifest.index?.[name]?.bytes).find((value) => value !== undefined);
      result[name] = bytes === undefined ? facts : { bytes, ...facts };
    }
    return result;
  }
}

/**
 * The failure a run is reported by: after an interrupt the failures it caused are noise and the
 * interrupt is said instead — unless the error is bad input, or a run's outcome, which says what
 * was put back and where the kept copy is.
 */
export function reportedFailure(error: unknown, signal: AbortSignal): unknown {
  const caused = signal.aborted && !(error instanceof UsageError) && !(error instanceof OutcomeError);
  return caused ? signal.reason : error;
}

function archiveOf(location: string, bytes: number | undefined, manifest: Manifest | undefined): HistoryArchive {
  return {
    // A path as given is relative to where the command ran: the record says where it is.
    location: isOffsiteUrl(location) || location === '-' ? location : resolve(location),
    ...(bytes !== undefined ? { bytes } : {}),
    ...(manifest?.backupId ? { backupId: manifest.backupId } : {}),
    ...(manifest?.split ? { split: manifest.split } : {}),
  };
}

/** A selective drill's selection, per component, as the history records it. */
function drillSelection(report: DrillReport): Record<string, Record<string, string[]>> {
  return copiedSelection(Object.fromEntries(report.components.map((component) => [component.name, component.selection ?? {}])));
}

function copiedSelection(
  selection: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>,
): Record<string, Record<string, string[]>> {
  return Object.fromEntries(
    Object.entries(selection).map(([name, flags]) => [
      name,
      Object.fromEntries(Object.entries(flags).map(([flag, values]) => [flag, [...values]])),
    ]),
  );
}
