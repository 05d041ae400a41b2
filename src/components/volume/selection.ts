import { Readable } from 'node:stream';
import { Header, Pax, type ReadEntry } from 'tar';
import { PreconditionError } from '../../base/errors.js';
import { plural } from '../../base/format.js';
import type { ComponentSource } from '../../archive/componentSource.js';
import { contentPadding, END_OF_ARCHIVE } from '../../archive/tarEntry.js';
import { tarStreamEntries } from '../../archive/tarStream.js';
import { sha256Of } from '../../integrity/sha256.js';
import type { PlanContext, RestoreContext, RestorePlan, RestoreResult } from '../../core/component.js';
import {
  fileState,
  FileTally,
  neverReplace,
  refuseOverwriteInto,
  SelectedFiles,
  type FileSelection,
  type FileState,
} from '../fileSelection.js';
import { checkContentOnly, contentEntries, contentPath, countContent, damaged, isFile, VolumeDetailsSchema } from './content.js';
import { keptShown } from './restore.js';
import { withVolumeKept } from './keptFolder.js';
import { readDetails } from '../../archive/componentDetails.js';
import type { VolumeDefinition } from './definition.js';
import { hasShell, insideAVolume, resolveTarget, type Target } from './target.js';

/** Files listed one by one in the dry run; the counts cover the rest. */
const LISTED_FILES = 200;

/** A restore of some files of a volume (--files), in its container or --into a host folder. */
export interface VolumeSelectionPlan extends RestorePlan {
  readonly picked: FileSelection;
  /** What each selected file of the archive finds where it goes. */
  readonly states: ReadonlyMap<string, FileState>;
  /** In place: the container's folder, and what putting the previous content back needs. */
  readonly live?: {
    readonly target: Target;
    readonly image: string;
    readonly canEmpty: boolean;
    readonly missingFolders: ReadonlySet<string>;
  };
}

/** The entries of the archive's content.tar, one at a time (each read or skipped before the next). */
async function* archivedContent(source: ComponentSource): AsyncGenerator<ReadEntry> {
  for await (const entry of contentEntries(source)) {
    yield* tarStreamEntries(entry.content, { compressed: false });
  }
}

/** The selected files of the archive, with their SHA-256; the content tar read once. */
async function selectedFiles(source: ComponentSource, tally: FileTally): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const read of archivedContent(source)) {
    const path = contentPath(read.path);
    if (path === '' || !isFile(read) || !tally.selects(path)) continue;
    files.set(path, await sha256Of(read.body));
  }
  return files;
}

/** What the live folder holds at the selected paths (a file's SHA-256, or that it is a folder), and all its folders. */
async function liveContent(
  context: PlanContext,
  target: Target,
  wanted: ReadonlyMap<string, string>,
): Promise<{ files: Map<string, string>; folders: Set<string> }> {
  const files = new Map<string, string>();
  const folders = new Set<string>();
  const current = await context.services.docker().getArchive(target.container, `${target.path}/.`);
  if (current === undefined) return { files, folders };
  for await (const read of tarStreamEntries(current, { compressed: false })) {
    const path = contentPath(read.path);
    if (read.type === 'Directory') folders.add(path);
    if (!wanted.has(path)) continue;
    files.set(path, read.type === 'Directory' ? 'folder' : isFile(read) ? await sha256Of(read.body) : 'other');
  }
  return { files, folders };
}

/** The plan of a selective restore of a volume: the archive's selected files against DIR (--into) or the live folder. */
export async function planVolumeSelection(
  name: string,
  definition: VolumeDefinition,
  context: PlanContext,
  picked: FileSelection,
): Promise<VolumeSelectionPlan> {
  if (!readDetails(VolumeDetailsSchema, context.source, name))
    throw damaged(context.source, `the manifest holds no valid record of ${name}`);
  await checkContentOnly(context.source, name);
  await countContent(context.source, name); // no name leaves the folder
  const tally = new FileTally(picked.patterns, name);
  const archived = await selectedFiles(context.source, tally);
  const states = new Map<string, FileState>();
  let live: VolumeSelectionPlan['live'];
  if (picked.into !== undefined) {
    for (const [path, sha256] of archived) {
      const state = await fileState(picked.into, path, sha256);
      if (state === 'overwrite') throw refuseOverwriteInto(picked.into, path);
      states.set(path, state);
    }
  } else {
    const target = await resolveTarget(context.project, context.services, name, definition);
    const blueprint = await context.services.docker().blueprint(target.container);
    if (!blueprint) throw new PreconditionError(`no container named ${target.container}.`);
    const now = await liveContent(context, target, archived);
    for (const [path, sha256] of archived) {
      const found = now.files.get(path);
      if (found === 'folder')
        throw new PreconditionError(`${target.path}/${path} in ${target.container} is a folder; the backup has a file there.`);
      states.set(path, found === undefined ? 'add' : found === sha256 ? 'identical' : 'overwrite');
    }
    const missingFolders = new Set(
      [...states].filter(([, state]) => state === 'add').flatMap(([path]) => parentsOf(path).filter((folder) => !now.folders.has(folder))),
    );
    const canEmpty = (await insideAVolume(context.services, target)) && (await hasShell(context.services, target.container));
    live = { target, image: blueprint.image, canEmpty, missingFolders };
  }
  for (const [path, state] of states) tally.count(path, state);
  tally.refuseUnmatched(context.source.archiveName);
  const where = live ? `${live.target.container}:${live.target.path}` : picked.into!;
  const listed = [...states].slice(0, LISTED_FILES).map(([path, state]) => `${where}/${path}: ${stateText(state)}`);
  if (states.size > LISTED_FILES) listed.push(`… and ${(states.size - LISTED_FILES).toLocaleString('en-US')} more files`);
  const actions = [...tally.lines(), ...listed];
  if (live) {
    actions.unshift(
      `${live.target.how}; ${live.target.running ? `stop ${live.target.container} during the copy, then start it again` : `${live.target.container} is stopped`}; keep ${live.target.path} whole in docker/.pre-restore-<UTC stamp>/${name}/${live.target.container}.tar`,
    );
  }
  const replaces = [...states].filter(([, state]) => state === 'overwrite').map(([path]) => `${where}/${path}`);
  return { actions, replaces, warnings: [], picked, states, live, selection: tally.impact(picked.into) };
}

function stateText(state: FileState): string {
  return state === 'add' ? 'new' : state === 'identical' ? 'exists, identical to the backup (left as is)' : 'exists, differs (replaced)';
}

function parentsOf(path: string): string[] {
  const segments = path.split('/').slice(0, -1);
  return segments.map((_, index) => segments.slice(0, index + 1).join('/'));
}

/** Restores the selection: into the host folder, or into the container's folder with the container stopped. */
export function restoreVolumeSelection(name: string, context: RestoreContext, plan: VolumeSelectionPlan): Promise<RestoreResult> {
  return plan.live === undefined ? restoreInto(name, context, plan, plan.picked.into!) : restoreInPlace(name, context, plan, plan.live);
}

async function restoreInto(
  name: string,
  { source, progress, signal }: RestoreContext,
  plan: VolumeSelectionPlan,
  into: string,
): Promise<RestoreResult> {
  const files = new SelectedFiles();
  try {
    for await (const read of archivedContent(source)) {
      const path = contentPath(read.path);
      if (!isFile(read) || plan.states.get(path) !== 'add') continue;
      const attributes = { mode: (read.mode ?? 0o600) & 0o775, mtimeMs: read.mtime?.getTime() };
      await files.add(into, path, Readable.fromWeb(read.body), attributes, neverReplace, signal);
      progress.advance(read.size);
    }
  } catch (error) {
    throw await files.abandon(error, signal.aborted, `the selected files of ${name} into ${into}`, `nothing was added to ${into}`);
  }
  const swapped = await files.swapIn(`placing the selected files of ${name} in ${into}`);
  return { summary: `${plural(swapped.length, 'file')} written into ${into}` };
}

/**
 * With the container stopped: its whole folder kept aside as a tar file (as a whole restore does),
 * then only the selected files that differ copied in with their owners; when the copy fails, the
 * folder is emptied (when it can be) and the kept content put back. The container is started again.
 */
async function restoreInPlace(
  name: string,
  { services, source, progress, signal, aside }: RestoreContext,
  plan: VolumeSelectionPlan,
  live: NonNullable<VolumeSelectionPlan['live']>,
): Promise<RestoreResult> {
  const { container, path } = live.target;
  const changed = [...plan.states.values()].filter((state) => state !== 'identical').length;
  if (changed === 0) return { summary: `${plural(plan.states.size, 'file')} of ${path} in ${container} already identical; nothing copied` };
  const docker = services.docker();
  const kept = { path: await aside.pathFor(name, `${container}.tar`), shown: keptShown(aside, name, container) };
  await withVolumeKept(docker, { ...live, kept }, { progress, signal }, async () => {
    const selected = selectionTar(source, plan.states, live.missingFolders, progress.advance.bind(progress));
    await docker.putArchive(container, path, Readable.from(selected), signal, { keepOwners: true });
  });
  return { summary: `${plural(changed, 'file')} of ${path} in ${container}; previous content kept in ${kept.shown}` };
}

/** A tar of the selected files that differ (and the folders above new ones that do not exist yet), with their owners, modes and mtimes. */
async function* selectionTar(
  source: ComponentSource,
  states: ReadonlyMap<string, FileState>,
  missingFolders: ReadonlySet<string>,
  advance: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const read of archivedContent(source)) {
    const path = contentPath(read.path);
    if (read.type === 'Directory' && missingFolders.has(path)) {
      yield header(read, 0);
      continue;
    }
    const state = states.get(path);
    if (!isFile(read) || state === undefined || state === 'identical') continue;
    yield header(read, read.size);
    for await (const chunk of read.body) yield chunk;
    yield contentPadding(read.size);
    advance(read.size);
  }
  yield END_OF_ARCHIVE;
}

/** The entry's header as the content tar has it (name, type, mode, owner, mtime), with a PAX extension for long or non-ASCII names. */
function header(read: ReadEntry, size: number): Buffer {
  const fields = {
    path: read.path,
    size,
    mtime: read.mtime,
    mode: read.mode,
    type: read.type === 'Directory' ? ('Directory' as const) : ('File' as const),
    uid: read.uid,
    gid: read.gid,
    uname: read.uname ?? '',
    gname: read.gname ?? '',
  };
  const block = Buffer.alloc(512);
  const needsPax = new Header(fields).encode(block);
  return needsPax
    ? Buffer.concat([new Pax({ path: read.path, size, mtime: read.mtime, uid: read.uid, gid: read.gid }).encode(), block])
    : block;
}
