import { archiveIndex, type ArchiveIndex } from '../archive/fileIndex.js';
import type { Manifest } from '../archive/manifest.js';
import type { ArchiveBytes } from '../archive/location.js';
import { locationName } from '../archive/location.js';
import { checkArchive, readManifest } from '../archive/reader.js';
import type { CheckScope } from '../archive/readScope.js';
import { BodySeeker } from '../archive/bodySeek.js';
import { checkBySeeking, seekable } from '../archive/seekingCheck.js';
import { openArchiveReference, openOffsiteStore, sessionOffsite } from './offsite.js';
import type { Keyring } from '../age/header.js';
import { settingsKeyring } from './archiveKeys.js';
import { SequentialReader, sourceFor, type ArchiveView } from './archiveSource.js';
import type { Component, OverwritePolicy, RestorePlan } from './component.js';
import { describeError, OrkestraError, PreconditionError, UsageError } from '../base/errors.js';
import { plural, printable } from '../base/format.js';
import { MoveAsideFolder } from './moveAside.js';
import type { PlannedWork } from '../model/events.js';
import { ComponentProgress } from '../model/progress.js';
import { acquireRestoreLock } from './restoreLock.js';
import { parseComponentList } from './selection.js';
import { narrowToSelection, selectionOf, type SelectorValues } from './restoreSelection.js';
import type { Session } from './session.js';

/** An archive whose manifest was read and whose every byte was checked. */
export interface CheckedArchive extends OpenedArchive, Omit<ArchiveView, 'location'> {
  /** The files: as listed and checked against the archive, or as found in it (legacy archives). */
  readonly index: ArchiveIndex;
  /** Archives of the original bash scripts carry no checksums. */
  readonly legacy: boolean;
  /** A selective restore's check: the files and bytes it verified, those of the components it restores; absent when every file was. */
  readonly checkedOnly?: { readonly files: number; readonly bytes: number };
}

export interface ComponentPlan {
  readonly component: Component;
  /** The archive this component is restored from, when not the restore's main one (the secrets archive of a split backup). */
  readonly from?: CheckedArchive;
  readonly plan?: RestorePlan;
  /** Why this component cannot be restored right now (a failed precondition). */
  readonly failure?: string;
}

export interface RestoreOutcome {
  readonly restored: readonly { component: string; summary?: string; details?: Record<string, unknown> }[];
  readonly failed?: { component: string; message: string };
  /** Components that were selected but not reached because an earlier one failed. */
  readonly notRestored: readonly string[];
}

/** An archive whose manifest has been read (fast: it is the first entry). */
export interface OpenedArchive {
  readonly file: string;
  readonly name: string;
  readonly manifest: Manifest;
  /** What every later read of a restore goes through: one pinned descriptor, or an S3 object pinned by its ETag. */
  readonly location: ArchiveBytes;
}

/** The word typed at the gate of a real restore, in the CLI and the TUI alike. */
export const GATE_WORD = 'restore';

/** Only the exact word (spaces around it aside) starts a restore; anything else changes nothing. */
export function confirmsRestore(answer: string): boolean {
  return answer.trim() === GATE_WORD;
}

/** Opens a local file or an `s3://bucket/key` archive and reads its manifest (standard input is refused: it cannot be read twice). */
export async function openRestoreArchive(
  file: string,
  session: Session,
  keyring: Keyring = settingsKeyring((key) => session.project.setting(key)),
): Promise<OpenedArchive> {
  const location = await openArchiveReference(file, () => openOffsiteStore(sessionOffsite(session)), keyring);
  try {
    const { manifest } = await readManifest(location);
    return { file: location.path, name: locationName(location), manifest, location };
  } catch (error) {
    await location.close();
    throw error;
  }
}

/**
 * Reads the archive before touching anything: a restore refuses an archive with a truncated
 * stream, a missing file, a failed checksum or an entry that would land outside its folder.
 * Given `only` (the components a selective restore reads), it checks the manifest, the index and
 * every file of those components, and reads no further than their last file (`verify` checks the
 * whole archive); with a seek table, it decompresses only those files, from where the index puts
 * them. An archive of the original scripts, which lists nothing, is read whole.
 */
export async function checkRestoreArchive(session: Session, opened: OpenedArchive, only?: CheckScope): Promise<CheckedArchive> {
  const { name, manifest } = opened;
  const listed = archiveIndex(opened.location, manifest);
  const legacy = listed === undefined;
  const scope = listed ? only : undefined;
  const progress = new ComponentProgress(ARCHIVE_CHECK, 'check', session.onEvent);
  progress.expect(scope ? [...scope.keys()].reduce((total, component) => total + listed!.of(component).bytes, 0) : (listed?.bytes ?? 0));
  const seeker = BodySeeker.of(opened.location, manifest);
  const onBytes = (bytes: number) => progress.advance(bytes);
  const onScope = (bytes: number) => progress.expect(bytes); // only the files it reads
  // A recompressed archive keeps its manifest but not its members: it is checked from the start, order and all.
  const byOffsets = scope !== undefined && seeker !== undefined && seekable(listed!, scope) && (await seeker.fits());
  const { problems, index, checked } = byOffsets
    ? await checkBySeeking(seeker, listed!, scope, onBytes, onScope)
    : await checkArchive(opened.location, manifest, onBytes, scope, onScope);
  if (problems.length > 0) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    progress.failed(problems[0]);
    throw new UsageError(`${name} failed its check: ${problems[0]}${more}.`, { hint: 'Nothing was touched.' });
  }
  progress.done(
    legacy
      ? 'made by the original backup.sh: no checksums to verify'
      : checked
        ? `${checked.files} of ${plural(index.files, 'file')} verified: only those this restore reads (verify checks the whole archive)`
        : `${plural(index.files, 'file')} verified`,
  );
  // The restore reads what the check read: from the offsets it checked, else from the start.
  return { ...opened, index, legacy, readsFromOffsets: byOffsets, ...(checked ? { checkedOnly: checked } : {}) };
}

/**
 * What a selective restore reads of the archive (every component narrowed to a selection): per
 * component, the files its selection reads (undefined: all of them); undefined for a whole restore.
 */
function selectiveScope(components: readonly Component[]): CheckScope | undefined {
  const selections = components.map(selectionOf);
  if (components.length === 0 || selections.some((selection) => selection === undefined)) return undefined;
  return new Map(components.map((component, at) => [component.name, component.selectionReads?.(selections[at]!)]));
}

/** The name the archive's check reports its progress under. */
export const ARCHIVE_CHECK = 'archive';

export interface RestorePreview {
  readonly archive: CheckedArchive;
  readonly plans: ComponentPlan[];
}

/**
 * The whole-archive check and every component's preconditions (the dry-run report). Both only
 * read, so when the manifest lists the archive's files they run side by side — the check hashes
 * every byte while mongorestore --dryRun reads its dump — and the plans count only once the
 * check has passed. An archive of the original scripts lists nothing: it is checked first.
 */
export async function previewRestore(
  session: Session,
  opened: OpenedArchive,
  components: readonly Component[],
  restoredAlongside: readonly Component[] = [],
): Promise<RestorePreview> {
  const listed = archiveIndex(opened.location, opened.manifest);
  if (listed === undefined) {
    const archive = await checkRestoreArchive(session, opened);
    return { archive, plans: await planRestore(session, archive, components, restoredAlongside) };
  }
  const only = selectiveScope(components);
  const planning = new AbortController();
  const planSession = { ...session, signal: AbortSignal.any([session.signal, planning.signal]) };
  const plans = planRestore(planSession, { ...opened, index: listed, legacy: false }, components, restoredAlongside);
  plans.catch(() => undefined); // a planning failure is reported below, after the check's verdict
  try {
    const archive = await checkRestoreArchive(session, opened, only);
    return { archive, plans: await plans };
  } catch (error) {
    planning.abort();
    await plans.catch(() => undefined);
    throw error;
  }
}

/**
 * The components to restore: those asked for (each must be in the archive), else all the archive
 * holds that this project declares. A configured component the project does not declare (see
 * `undeclaredComponents`) is made from the archive's own definition, and restored only when asked
 * for by name. Refused when that is no component at all (see `refuseNothingSelected`). With
 * selectors (`--files .env`), only the components they pick from, each narrowed to its selection.
 */
export function selectRestoreComponents(
  session: Session,
  archive: OpenedArchive,
  requested?: string,
  selectors: SelectorValues = {},
): Component[] {
  const chosen = narrowToSelection(componentsToRestore(session, archive, requested), selectors, requested);
  refuseNothingSelected(session, archive, chosen.length, requested);
  return chosen;
}

/** `selectRestoreComponents` without the refusal of an empty selection: one archive of a pair may give none. */
export function componentsToRestore(session: Session, archive: OpenedArchive, requested?: string): Component[] {
  const inArchive = new Set(archive.manifest.components);
  const candidates = [...session.components, ...undeclaredComponents(session, archive)];
  if (requested !== undefined) {
    const chosen = parseComponentList(requested, candidates);
    const absent = chosen.filter((component) => !inArchive.has(component.name));
    if (absent.length > 0) {
      throw new UsageError(`${absent.map((c) => c.name).join(', ')} ${absent.length === 1 ? 'is' : 'are'} not in ${archive.name}.`, {
        hint: `It holds: ${archive.manifest.components.join(', ') || 'nothing'}. Nothing was touched.`,
      });
    }
    return chosen;
  }
  const unknown = archive.manifest.components.filter((name) => !candidates.some((c) => c.name === name));
  if (unknown.length > 0) {
    throw new UsageError(`${archive.name} holds ${unknown.join(', ')}, which this version cannot restore.`, {
      hint: 'Pass --components to restore the others.',
    });
  }
  return session.components.filter((component) => inArchive.has(component.name));
}

/** Configured components of the archive that this project's orkestra-backup.json does not declare. */
export function undeclaredComponents(session: Session, archive: OpenedArchive): Component[] {
  return archive.manifest.components
    .filter((name) => !session.components.some((component) => component.name === name))
    .map((name) => session.fromArchive?.(name, archive.manifest.details?.[name]))
    .filter((component): component is Component => component !== undefined);
}

/**
 * Refuses a restore that would restore nothing (every component of the archive left out, or
 * none in it), before the archive is checked: a report of "all 0 components" would read as a
 * success. Every front end selects through here, so none can start an empty restore.
 */
export function refuseNothingSelected(session: Session, archive: OpenedArchive, selected: number, requested: string | undefined): void {
  if (selected > 0) return;
  const leftOut = requested === undefined ? undeclaredComponents(session, archive) : [];
  const names = leftOut.map((component) => component.name);
  if (names.length === 0) {
    throw new UsageError(`nothing to restore: ${archive.name} holds no component this project can restore.`, {
      hint: `It holds: ${archive.manifest.components.join(', ') || 'nothing'}. Nothing was touched.`,
    });
  }
  const one = names.length === 1;
  throw new UsageError(
    `nothing to restore: ${archive.name} holds only ${names.join(', ')}, which this project's orkestra-backup.json does not declare.`,
    {
      hint: `To restore ${one ? 'it' : 'them'} as the archive defines ${one ? 'it' : 'them'}, name ${one ? 'it' : 'them'}: -c ${names.join(',')}. Nothing was touched.`,
    },
  );
}

/** The line a restore without --components shows for each undeclared component it leaves out. */
export function leftOutLine(component: Component): string {
  return (
    `${component.name}: not restored — this project's orkestra-backup.json does not declare it; ` +
    `to restore it as the archive defines it, name it: -c ${component.name}`
  );
}

/**
 * Every precondition of every selected component, checked without changing anything. The
 * result is the dry-run report; a real restore proceeds only when no component failed.
 * `restoredAlongside`: components the same restore brings back from another archive (the
 * secrets archive of a split backup). The components plan side by side: each only reads (the
 * archive, the server, the store), and one after the other they spent 3.2 s of a 2 GB dry run
 * waiting on each other (Redis's RDB header, the store's listing) after MongoDB's 11 s.
 */
export async function planRestore(
  session: Session,
  archive: CheckedArchive,
  components: readonly Component[],
  restoredAlongside: readonly Component[] = [],
): Promise<ComponentPlan[]> {
  session.signal.throwIfAborted();
  const selected = [...components, ...restoredAlongside];
  const settled = await Promise.allSettled(components.map((component) => planComponent(session, archive, component, selected)));
  // In component order, so that the first component's usage error is the one reported.
  for (const result of settled) if (result.status === 'rejected') throw result.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<ComponentPlan>).value);
}

async function planComponent(
  session: Session,
  archive: CheckedArchive,
  component: Component,
  selected: readonly Component[],
): Promise<ComponentPlan> {
  const progress = new ComponentProgress(component.name, 'plan', session.onEvent);
  try {
    const restoring = selected.map((other) => other.name);
    const plan = await component.planRestore({
      ...session,
      source: sourceFor(archive, component),
      progress,
      manifest: archive.manifest,
      restoring,
    });
    progress.done();
    return { component, plan: showable(plan) };
  } catch (error) {
    if (error instanceof UsageError || !(error instanceof OrkestraError)) throw error;
    progress.failed(error.message);
    return { component, failure: describeError(error) };
  }
}

/** A plan's lines hold names from the archive: escaped once here for every interface. */
function showable<Plan extends RestorePlan>(plan: Plan): Plan {
  return {
    ...plan,
    actions: plan.actions.map(printable),
    replaces: plan.replaces.map(printable),
    warnings: plan.warnings.map(printable),
  };
}

/** What a restore will read, sized by the archive's index (so the overall total is known before the first byte). */
export function restoreWork(
  archive: Pick<CheckedArchive, 'index'>,
  plans: readonly Pick<ComponentPlan, 'component' | 'from'>[],
): PlannedWork[] {
  return plans.map(({ component, from }) => ({
    component: component.name,
    phase: 'restore',
    bytes: (from ?? archive).index.of(component.name).bytes,
  }));
}

/**
 * Restores component after component. The first failure stops the restore; the outcome says
 * what was restored and what was not. Takes the project's restore lock for its duration.
 */
export async function runRestore(
  session: Session,
  archive: CheckedArchive,
  plans: readonly ComponentPlan[],
  overwrite: OverwritePolicy,
): Promise<RestoreOutcome> {
  const failedPlan = plans.find((entry) => entry.failure);
  if (failedPlan) throw new PreconditionError(`cannot restore ${failedPlan.component.name}: ${failedPlan.failure}`);
  await archive.location.assertUnchanged();
  for (const { from } of plans) await from?.location.assertUnchanged();
  const release = await acquireRestoreLock(session.project.dockerDir);
  const startedAt = new Date();
  const aside = new MoveAsideFolder(session.project.dockerDir, startedAt);
  const restored: { component: string; summary?: string; details?: Record<string, unknown> }[] = [];
  session.onEvent({ type: 'work-planned', work: restoreWork(archive, plans) });
  // Components restore in archive order, so one pass over the archive serves them all.
  const reader = SequentialReader.fits(archive) ? new SequentialReader(archive) : undefined;
  try {
    for (const [index, { component, plan, from }] of plans.entries()) {
      const progress = new ComponentProgress(component.name, 'restore', session.onEvent);
      try {
        session.signal.throwIfAborted();
        const source = from ? sourceFor(from, component) : sourceFor(archive, component, reader);
        const result = await component.restore({ ...session, source, progress, overwrite, startedAt, aside }, plan!);
        progress.done(result.summary);
        restored.push({ component: component.name, summary: result.summary, details: result.details });
      } catch (error) {
        const message = describeError(error).replace(/^unexpected failure: /, '');
        progress.failed(message);
        return {
          restored,
          failed: { component: component.name, message },
          notRestored: plans.slice(index + 1).map((entry) => entry.component.name),
        };
      }
    }
    return { restored, notRestored: [] };
  } finally {
    try {
      await reader?.close();
    } finally {
      await release(); // even if closing the archive fails, the project is not left locked
    }
  }
}
