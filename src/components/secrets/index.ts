import { smallFileList } from '../../archive/smallFileList.js';
import type { IndexedFile } from '../../archive/fileIndex.js';
import { sha256Of } from '../../integrity/sha256.js';
import { createReadStream } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import type { Component, RestorePlan } from '../../core/component.js';
import type { ComponentSource } from '../../archive/componentSource.js';
import { readDetails } from '../../archive/componentDetails.js';
import { PreconditionError, UsageError } from '../../base/errors.js';
import { formatBytes, plural } from '../../base/format.js';
import type { MoveAsideFolder } from '../../core/moveAside.js';
import { removeStagedLeftovers, StagingArea, writeNewFile, type StagedItem } from '../../core/stagedSwap.js';
import { secretsDrill } from './drill.js';
import { findSecretFiles, secretGroups } from './find.js';
import { pickFiles } from '../filePicks.js';
import { SECRETS } from '../../archive/archiveNames.js';
import {
  checkInto,
  FILE_SELECTORS,
  fileSelection,
  fileState,
  FileTally,
  neverReplace,
  refuseOverwriteInto,
  targetIn,
} from '../fileSelection.js';

const ENV_FILE = '.env';
const KEYS_DIR = 'keys';

/** Recorded in the manifest so a restore gives each file back its permissions. */
const SecretsDetailsSchema = z.object({
  files: z.array(z.object({ path: z.string(), mode: z.number().int() })),
});

type TargetState = 'new' | 'exists' | 'unchanged';

interface SecretsPlan extends RestorePlan {
  readonly targets: ReadonlyMap<string, TargetState>;
  /** --into: the folder written instead of docker/. */
  readonly into?: string;
}

interface SecretFile {
  path: string;
  absolute: string;
  size: number;
  mode: number;
}

/** `docker/.env` and everything under `docker/keys/`. */
export const secrets: Component<SecretsPlan> = {
  name: SECRETS,
  title: 'Secrets (docker/.env, docker/keys/)',

  async availability({ project }) {
    const env = await stat(join(project.dockerDir, ENV_FILE)).catch(() => undefined);
    const keys = await stat(join(project.dockerDir, KEYS_DIR)).catch(() => undefined);
    if (env?.isFile() || keys?.isDirectory()) return { available: true };
    return { available: false, reason: 'neither docker/.env nor docker/keys/ exists' };
  },

  async backup({ project, sink, progress, signal }) {
    const files = await listSecretFiles(project.dockerDir);
    progress.expect(files.reduce((total, file) => total + file.size, 0));
    for (const file of files) {
      signal.throwIfAborted();
      // The read stops at once on an interrupt (a 3 GB key file took 15 s to let go).
      await sink.addFile(file.path, file.size, createReadStream(file.absolute, { signal }));
    }
    const bytes = files.reduce((total, file) => total + file.size, 0);
    return {
      details: { files: files.map(({ path, mode }) => ({ path, mode })) },
      summary: plural(files.length, 'file'),
      // File names, never contents: a key file that vanishes is an anomaly.
      shape: { items: 'files', group: 'folder', groups: { docker: { items: files.length, bytes } }, names: files.map((file) => file.path) },
    };
  },

  async planRestore({ project, source, selection }) {
    fileModes(source); // a malformed manifest is refused before anything else
    const files = await smallFileList(source, 'secrets');
    checkNoFileUnderFile(source, files);
    const picked = fileSelection(selection);
    const tally = picked && new FileTally(picked.patterns, SECRETS);
    const into = picked?.into;
    if (into !== undefined) await checkInto(into, [join(project.dockerDir, ENV_FILE), join(project.dockerDir, KEYS_DIR)], SECRETS);
    const targets = new Map<string, TargetState>();
    const actions: string[] = [];
    const replaces: string[] = [];
    for (const file of files) {
      checkSecretPath(file.path, source.archiveName);
      if (tally && !tally.selects(file.path)) continue;
      const state = into === undefined ? await targetState(project.dockerDir, file.path, file.sha256) : await intoState(into, file);
      targets.set(file.path, state);
      tally?.count(file.path, state === 'new' ? 'add' : state === 'unchanged' ? 'identical' : 'overwrite');
      const shown = into === undefined ? `docker/${file.path}` : targetIn(into, file.path);
      if (state === 'new') actions.push(`${shown}: new`);
      else if (state === 'unchanged') actions.push(`${shown}: exists, identical to the backup (left as is)`);
      else {
        actions.push(`${shown}: exists (would prompt / move aside)`);
        replaces.push(shown);
      }
    }
    tally?.refuseUnmatched(source.archiveName);
    return { actions: [...(tally?.lines() ?? []), ...actions], replaces, warnings: [], targets, into, selection: tally?.impact(into) };
  },

  /**
   * Every file the restore writes is staged beside its target first; only when all are written
   * whole are they swapped in together (the replaced ones moved aside), so an interrupt or a
   * failure never leaves docker/.env of one backup beside keys of another.
   */
  async restore({ project, source, overwrite, aside, progress, signal }, plan) {
    const modes = fileModes(source);
    await removeStagedSecretsLeftovers(project.dockerDir);
    const staging = new StagingArea();
    const items: StagedItem[] = [];
    let kept = 0;
    try {
      for await (const entry of source.entries()) {
        const state = plan.targets.get(entry.path);
        if (state === undefined || state === 'unchanged') continue;
        const target = plan.into === undefined ? join(project.dockerDir, entry.path) : targetIn(plan.into, entry.path);
        if (state === 'exists' && overwrite.mode === 'ask') {
          const question = `docker/${entry.path} exists and differs from the backup. Replace it (the current file is kept in ${displayAside(aside)})?`;
          if (!(await overwrite.confirm(question))) {
            progress.note(`kept docker/${entry.path} as it is`);
            kept += 1;
            continue;
          }
        }
        const staged = await staging.beside(target);
        await writeNewFile(staged, entry.content, { mode: modes.get(entry.path) ?? 0o600 }, signal);
        items.push({ target, staged, keep: () => (plan.into === undefined ? aside.keep(target) : neverReplace(target)) });
        progress.advance(entry.size);
      }
    } catch (error) {
      throw await staging.abandon(
        error,
        signal.aborted,
        'the restored secrets beside their targets',
        'no secret file was replaced: docker/.env and docker/keys/ are as they were',
      );
    }
    const swapped = await staging.swapIn('swapping the restored secrets in', items);
    const movedAside = swapped.filter((entry) => entry.kept !== undefined).length;
    const parts = [`${swapped.length} written${plan.into === undefined ? '' : ` into ${plan.into}`}`];
    if (movedAside > 0) parts.push(`${movedAside} moved aside to ${displayAside(aside)}`);
    if (kept > 0) parts.push(`${kept} kept as they were`);
    return { summary: parts.join(', ') };
  },

  async examine({ source }) {
    const problems: string[] = [];
    const files = await smallFileList(source, 'secrets');
    for (const file of files) {
      try {
        checkSecretPath(file.path, source.archiveName);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    return {
      facts: { files: files.map(({ path, size }) => ({ path, size })) },
      lines: [
        `${plural(files.length, 'file')}, ${formatBytes(files.reduce((total, file) => total + file.size, 0))}`,
        ...files.map((file) => `${file.path} (${formatBytes(file.size)})`),
      ],
      problems,
    };
  },

  find: findSecretFiles,
  groups: secretGroups,
  drill: secretsDrill,
  selectors: FILE_SELECTORS,
  pickSelectors: (picks) => pickFiles(picks),
};

/** In an --into folder: a new file, or one with the backup's bytes already; a different one is refused. */
async function intoState(into: string, file: IndexedFile): Promise<TargetState> {
  const state = await fileState(into, file.path, file.sha256);
  if (state === 'overwrite') throw refuseOverwriteInto(into, file.path);
  return state === 'add' ? 'new' : 'unchanged';
}

async function listSecretFiles(dockerDir: string): Promise<SecretFile[]> {
  const files: SecretFile[] = [];
  const envPath = join(dockerDir, ENV_FILE);
  const env = await stat(envPath).catch(() => undefined);
  if (env?.isFile()) files.push({ path: ENV_FILE, absolute: envPath, size: env.size, mode: env.mode & 0o777 });
  await walk(join(dockerDir, KEYS_DIR), KEYS_DIR, files);
  return files;
}

async function walk(folder: string, relativeFolder: string, files: SecretFile[]): Promise<void> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const absolute = join(folder, entry.name);
    const path = `${relativeFolder}/${entry.name}`;
    // An archive refuses a name with a backslash; a secret is never left out unsaid.
    if (entry.name.includes('\\')) {
      throw new PreconditionError(`docker/${path} has a backslash in its name, which an archive cannot hold.`, {
        hint: 'Rename it (or move it out of docker/keys/) and run the backup again.',
      });
    }
    // A link to a file is backed up as the file it points to (and restored as a plain file);
    // a link to a folder is refused: following it can loop (a link to .. gave 40 copies).
    const info = await stat(absolute).catch(() => undefined);
    if (info?.isDirectory() && entry.isSymbolicLink()) {
      throw new PreconditionError(`docker/${path} is a link to a folder; secrets follow links to files only.`, {
        hint: 'Replace the link with the folder itself (or remove it) and run the backup again.',
      });
    }
    if (info?.isDirectory()) await walk(absolute, path, files);
    else if (info?.isFile()) files.push({ path, absolute, size: info.size, mode: info.mode & 0o777 });
  }
}

function checkSecretPath(path: string, archiveName: string): void {
  if (path === ENV_FILE || path.startsWith(`${KEYS_DIR}/`)) return;
  throw new UsageError(`${archiveName}: secrets/${path} is neither docker/.env nor under docker/keys/.`, {
    hint: 'The archive was not made by orkestra-backup; nothing was restored.',
  });
}

async function targetState(dockerDir: string, path: string, sha256: string | undefined): Promise<TargetState> {
  await checkParentsAreFolders(dockerDir, path);
  const target = join(dockerDir, path);
  const info = await lstat(target).catch(() => undefined);
  if (!info) return 'new';
  if (info.isDirectory()) {
    throw new PreconditionError(`docker/${path} is a folder; the backup has a file there.`, {
      hint: 'Move the folder away and run the restore again.',
    });
  }
  if (info.isFile() && sha256 && (await sha256OfFile(target)) === sha256) return 'unchanged';
  return 'exists';
}

async function checkParentsAreFolders(dockerDir: string, path: string): Promise<void> {
  const segments = path.split('/').slice(0, -1);
  let current = dockerDir;
  for (const segment of segments) {
    current = join(current, segment);
    const info = await lstat(current).catch(() => undefined);
    if (info && !info.isDirectory()) {
      throw new PreconditionError(`docker/${path} cannot be written: ${current} is not a folder.`, {
        hint: 'Move it away and run the restore again.',
      });
    }
  }
}

/** Staged secrets a killed restore left in docker/ and anywhere under docker/keys/ (plain text, never removed otherwise). */
async function removeStagedSecretsLeftovers(dockerDir: string): Promise<void> {
  const keys = join(dockerDir, KEYS_DIR);
  const inKeys = await readdir(keys, { withFileTypes: true, recursive: true }).catch(() => []);
  const folders = [dockerDir, keys, ...inKeys.filter((entry) => entry.isDirectory()).map((entry) => join(entry.parentPath, entry.name))];
  for (const folder of folders) await removeStagedLeftovers(folder);
}

/** `keys/a` and `keys/a/b` cannot both be restored: refused before the first file is written. */
function checkNoFileUnderFile(source: ComponentSource, files: readonly IndexedFile[]): void {
  const paths = new Set(files.map((file) => file.path));
  for (const file of files) {
    const segments = file.path.split('/');
    for (let depth = 1; depth < segments.length; depth += 1) {
      const parent = segments.slice(0, depth).join('/');
      if (paths.has(parent)) {
        throw new UsageError(`${source.archiveName}: secrets/${parent} is both a file and the folder of secrets/${file.path}.`, {
          hint: 'The archive is damaged or was not made by orkestra-backup; nothing was restored.',
        });
      }
    }
  }
}

function sha256OfFile(path: string): Promise<string> {
  return sha256Of(createReadStream(path));
}

/** Secret files are restored at most 0600 (owner only), whatever mode the manifest records. */
function fileModes(source: ComponentSource): Map<string, number> {
  const details = readDetails(SecretsDetailsSchema, source, 'secrets');
  return new Map((details?.files ?? []).map((file) => [file.path, file.mode & 0o600]));
}

function displayAside(aside: MoveAsideFolder): string {
  return `docker/${basename(aside.displayPath)}/`;
}
