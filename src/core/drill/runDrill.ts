import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveIndex } from '../../archive/fileIndex.js';
import { describeError } from '../../base/errors.js';
import { removeTemporary, trackTemporary } from '../../base/temporaryFiles.js';
import { sourceFor } from '../archiveSource.js';
import type { Component, DrillCheck } from '../component.js';
import { critical } from '../../base/criticalSection.js';
import { ComponentProgress } from '../../model/progress.js';
import type { Project } from '../../model/project.js';
import type { Canary } from '../component.js';
import type { ProjectConfig } from '../projectConfig.js';
import {
  ARCHIVE_CHECK,
  checkRestoreArchive,
  componentsToRestore,
  planRestore,
  restoreWork,
  runRestore,
  selectRestoreComponents,
  type OpenedArchive,
} from '../restore.js';
import type { Session } from '../session.js';
import type { SelectorValues } from '../restoreSelection.js';
import {
  refuseComponentsWithoutSelectors,
  refuseDrillFlags,
  refuseUncheckedSelection,
  selectionOf,
  selectionText,
  type DrillSelection,
} from './drillSelection.js';
import { drillName, removeDrill, removeLeftoverDrills, resolveOrigins, startDrillStack, type DrillStack } from './drillStack.js';

export interface DrillOptions {
  /** --image <component>=<image>: the image of a component's copy when no live container is copied. */
  readonly images: Readonly<Record<string, string>>;
  readonly config: ProjectConfig;
  /** The restore selectors given (`--keys 'session:*'`): the drill restores and checks only what they pick. */
  readonly selectors?: SelectorValues;
  /** -c with selectors: the components they pick from, when a flag could pick from several. */
  readonly components?: string;
  /**
   * A selective drill's selection per component, told once the selectors are accepted and before
   * any copy starts: a drill that fails or is interrupted afterwards is still known as selective.
   */
  readonly onSelection?: (selection: Readonly<Record<string, DrillSelection>>) => void;
}

export interface DrillComponentReport {
  readonly name: string;
  /** The restore's summary line, once restored. */
  readonly restored?: string;
  /** Why it was not restored (a failed precondition or restore), or not reached. */
  readonly failure?: string;
  readonly checks: readonly DrillCheck[];
  /** In a selective drill, the component's selector flags, by flag name. */
  readonly selection?: DrillSelection;
  /** The same, as the command line gives it (`--keys 'session:*'`). */
  readonly selected?: string;
}

export interface DrillReport {
  readonly id: string;
  readonly archive: string;
  readonly createdAt: string;
  readonly components: readonly DrillComponentReport[];
  /** Canaries of orkestra-backup.json for components the archive does not hold. */
  readonly unmatchedCanaries: readonly DrillCheck[];
  /** Components of the archive a drill cannot restore into throwaway copies (a configured volume): named, not judged. */
  readonly notDrilled: readonly string[];
  /** Selectors were given: only the components they pick from were restored, each only what they pick. */
  readonly selective?: boolean;
  /** The canaries of orkestra-backup.json a selective drill leaves unchecked (they prove a whole restore). */
  readonly canariesNotChecked?: readonly string[];
  /** Wall time of each phase, in order. */
  readonly phases: readonly { name: string; ms: number }[];
  /** Every component restored and every check passed. */
  readonly ok: boolean;
}

/**
 * A restore drill: the archive is checked, throwaway copies of the live containers are started
 * on a network of their own, the archive is restored into them through the same plans and
 * restore as `restore` (secrets into a temporary project folder, never docker/), and then each
 * component proves its data came back. The copies, their network and volumes and the folder
 * are removed whatever happens. The live containers and docker/ are only read.
 */
export async function runDrill(session: Session, opened: OpenedArchive, options: DrillOptions): Promise<DrillReport> {
  const phases: { name: string; ms: number }[] = [];
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await work();
    } finally {
      phases.push({ name, ms: Date.now() - started });
    }
  };
  const { components, notDrilled, selective, canaries } = drillScope(session, opened, options);
  if (selective) {
    const selectors = options.selectors ?? {};
    options.onSelection?.(Object.fromEntries(components.map((component) => [component.name, selectionOf(component, selectors)])));
  }
  const docker = session.services.docker();
  // Where each copy comes from is settled first: a missing container or image fails in a second, not after the check.
  const origins = await resolveOrigins(session, components, options.images);
  // The check reads the whole archive, the restore each component's files: both sized by the index.
  const listed = archiveIndex(opened.location, opened.manifest);
  const drilled = components.map((component) => ({ component }));
  const restoring = listed ? restoreWork({ index: listed }, drilled) : [];
  session.onEvent({ type: 'work-planned', work: [{ component: ARCHIVE_CHECK, phase: 'check', bytes: listed?.bytes }, ...restoring] });
  const archive = await timed('archive check', () => checkRestoreArchive(session, opened));
  const leftovers = await removeLeftoverDrills(docker, session.project.dir);
  if (leftovers.length > 0)
    session.onEvent({ type: 'step', message: `removed ${leftovers.length} left-over drill(s): ${leftovers.join(', ')}` });

  const id = randomBytes(4).toString('hex');
  const folder = await drillFolder(id);
  let stack: DrillStack | undefined;
  try {
    const drillOf = (started: DrillStack) => drillProject(session.project, folder, started, session.components);
    stack = await timed('start', () => startDrillStack(session, origins, id, drillOf));
    const drill = { ...session, project: drillOf(stack) };
    const plans = await timed('plan', () => planRestore(drill, archive, components));
    const reports = new Map<string, { restored?: string; failure?: string; checks: DrillCheck[] }>();
    for (const { component, failure } of plans) reports.set(component.name, { failure, checks: [] });
    if (plans.every((entry) => !entry.failure)) {
      const outcome = await timed('restore', () => runRestore(drill, archive, plans, { mode: 'move-aside' }));
      const results = new Map(outcome.restored.map((entry) => [entry.component, entry]));
      if (outcome.failed) reports.get(outcome.failed.component)!.failure = outcome.failed.message;
      for (const name of outcome.notRestored) reports.get(name)!.failure = 'not restored: an earlier component failed';
      await timed('checks', async () => {
        for (const { component } of plans) {
          const restored = results.get(component.name);
          if (!restored) continue;
          const report = reports.get(component.name)!;
          report.restored = restored.summary;
          report.checks = await proveComponent(drill, archive, component, restored, canariesOf(canaries, component.name));
        }
      });
    }
    const componentReports = components.map((component) => ({
      name: component.name,
      ...reports.get(component.name)!,
      ...selectionFacts(component, options.selectors ?? {}, selective),
    }));
    const unmatchedCanaries = canaries
      .filter((canary) => !components.some((component) => component.name === canary.component))
      .map((canary) => missingComponent(canary));
    return {
      id,
      archive: archive.name,
      createdAt: archive.manifest.createdAt,
      components: componentReports,
      unmatchedCanaries,
      notDrilled,
      selective,
      canariesNotChecked: selective ? options.config.canaries.map((canary) => canary.label) : [],
      phases,
      ok: componentReports.every((report) => !report.failure && report.checks.every((check) => check.ok)) && unmatchedCanaries.length === 0,
    };
  } finally {
    // Removal must not be cut short by a second Ctrl-C: the copies would outlive the drill.
    await timed('cleanup', () =>
      critical(`removing the drill's containers (${drillName(id)})`, async () => {
        await removeDrill(docker, id);
        await removeTemporary(folder);
      }),
    );
  }
}

/** Runs a component's checks; a check that throws is a failed check, not a failed drill. */
async function proveComponent(
  drill: Session,
  archive: Parameters<typeof sourceFor>[0],
  component: Component,
  restored: { summary?: string; details?: Record<string, unknown> },
  canaries: readonly Canary[],
): Promise<DrillCheck[]> {
  const progress = new ComponentProgress(component.name, 'prove', drill.onEvent);
  try {
    const checks = await component.drill!.check({
      ...drill,
      source: sourceFor(archive, component),
      progress,
      manifest: archive.manifest,
      restored,
      canaries,
    });
    const failed = checks.filter((check) => !check.ok);
    if (failed.length > 0) progress.failed(`${failed.length} of ${checks.length} checks failed: ${failed[0].name}`);
    else progress.done(`${checks.length} checks passed`);
    return checks;
  } catch (error) {
    if (drill.signal.aborted) throw error;
    const message = describeError(error).replace(/^unexpected failure: /, '');
    progress.failed(message);
    return [{ name: `${component.name} checks`, ok: false, expected: 'checks run', measured: message }];
  }
}

function canariesOf(canaries: readonly Canary[], component: string): Canary[] {
  return canaries.filter((canary) => canary.component === component);
}

/**
 * What the drill restores: the archive's components a copy can be made for, or with selectors
 * only those they pick from, each narrowed to its selection (refused, exit 2, before any copy is
 * started when a flag restores beside or picks nothing a drill can check). A selective drill
 * checks no canary: they prove a whole restore, and a selection may leave their data out.
 */
function drillScope(session: Session, opened: OpenedArchive, options: DrillOptions) {
  const selectors = options.selectors ?? {};
  refuseComponentsWithoutSelectors(options.components, selectors);
  refuseDrillFlags(componentsToRestore(session, opened, options.components), selectors);
  const selected = selectRestoreComponents(session, opened, options.components, selectors);
  refuseUncheckedSelection(selected);
  const selective = Object.values(selectors).some((values) => values.length > 0);
  return {
    components: selected.filter((component) => component.drill),
    notDrilled: selected.filter((component) => !component.drill).map((component) => component.name),
    selective,
    canaries: selective ? [] : options.config.canaries,
  };
}

function selectionFacts(component: Component, selectors: SelectorValues, selective: boolean) {
  if (!selective) return {};
  const selection = selectionOf(component, selectors);
  return { selection, selected: selectionText(component, selection) };
}

function missingComponent(canary: Canary): DrillCheck {
  return {
    name: canary.label,
    canary: canary.label,
    ok: false,
    expected: `${canary.component} restored`,
    measured: `the archive holds no ${canary.component}`,
  };
}

/** The temporary project the drill restores into: secrets land in its docker/, never the live one. */
async function drillFolder(id: string): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), `orkestra-drill-${id}-`));
  trackTemporary(folder);
  await mkdir(join(folder, 'docker'), { mode: 0o700 });
  return folder;
}

/**
 * The project as the drill's restore sees it: the temporary folder, the copies' container names
 * (never a live one, even for a component without a copy) and settings pointing at the copies,
 * with each component's drill settings; the settings that lead to a live server without a
 * container are never read (the copies are containers). Passwords and names come from the live
 * project, whose containers the copies were made from.
 */
export function drillProject(live: Project, dir: string, stack: DrillStack, components: readonly Component[]): Project {
  const liveOnly = new Set(components.flatMap((component) => component.drill?.liveOnlySettings ?? []));
  const drillSettings = Object.fromEntries(components.flatMap((component) => Object.entries(component.drill?.drillSettings ?? {})));
  const pinned: Record<string, string> = { ...stack.settings, ...drillSettings };
  return {
    dir,
    dockerDir: join(dir, 'docker'),
    backupsDir: join(dir, 'backups'),
    hostRoot: join(dir, 'host'),
    environment: live.environment,
    setting: (key, containerEnv) =>
      liveOnly.has(key) ? undefined : Object.hasOwn(pinned, key) ? pinned[key] : live.setting(key, containerEnv),
    containerName: (component) => stack.containers[component] ?? drillName(stack.id, component),
  };
}
