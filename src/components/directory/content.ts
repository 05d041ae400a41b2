import { z } from 'zod';
import { UsageError } from '../../base/errors.js';
import { formatBytes, plural } from '../../base/format.js';
import type { ArchiveReport, ExamineContext } from '../../core/component.js';
import type { ComponentSource } from '../../archive/componentSource.js';
import { readDetails } from '../../archive/componentDetails.js';

export const EntryAttributesSchema = z.object({ mode: z.number().int().nonnegative(), mtimeMs: z.number() });
export const FolderSchema = EntryAttributesSchema.extend({ path: z.string() });
export const DirectoryDetailsSchema = z.object({
  definition: z.looseObject({ kind: z.literal('directory'), path: z.string() }),
  roots: z.array(FolderSchema.extend({ folders: z.array(FolderSchema) })),
});
export type DirectoryDetails = z.infer<typeof DirectoryDetailsSchema>;

export function directoryDetails(source: ComponentSource, name: string): DirectoryDetails {
  const details = readDetails(DirectoryDetailsSchema, source, name);
  if (!details) throw damaged(source, `the manifest holds no valid record of ${name}'s folders`);
  for (const root of details.roots) {
    if (!isSafeRoot(root.path)) throw damaged(source, `${name} names the folder ${JSON.stringify(root.path)}, which is not a plain path`);
    for (const folder of root.folders) {
      if (!isSafeRelative(folder.path))
        throw damaged(source, `${name} names the folder ${JSON.stringify(folder.path)} inside ${root.path}`);
    }
  }
  return details;
}

/** Every file lies inside one of the recorded folders, by a plain relative path; counts per folder. */
export async function checkFiles(
  source: ComponentSource,
  name: string,
  details: DirectoryDetails,
): Promise<{ files: number; bytes: number }[]> {
  const counts = details.roots.map(() => ({ files: 0, bytes: 0 }));
  for await (const file of source.files()) {
    const [index, path] = splitRoot(file.path);
    if (!(index in counts) || !isSafeRelative(path)) throw damaged(source, `${name}/${file.path} is not inside one of its folders`);
    counts[index].files += 1;
    counts[index].bytes += file.size;
  }
  return counts;
}

export function splitRoot(path: string): [number, string] {
  const slash = path.indexOf('/');
  return slash > 0 && /^\d+$/.test(path.slice(0, slash)) ? [Number(path.slice(0, slash)), path.slice(slash + 1)] : [-1, path];
}

export function isSafeRelative(path: string): boolean {
  return path !== '' && !path.startsWith('/') && path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/** A recorded folder: relative (inside the project) or absolute, never climbing out with `..`. */
export function isSafeRoot(path: string): boolean {
  return isSafeRelative(path.replace(/^\/+/, '')) && !path.includes('\0');
}

export function damaged(source: ComponentSource, problem: string): UsageError {
  return new UsageError(`${source.archiveName}: ${problem}.`, {
    hint: 'The archive is damaged or was not made by orkestra-backup; nothing was touched.',
  });
}

export async function examineDirectory(name: string, { source }: ExamineContext): Promise<ArchiveReport> {
  try {
    const details = directoryDetails(source, name);
    const counts = await checkFiles(source, name, details);
    const lines = details.roots.map(
      (root, index) => `${root.path}  ${plural(counts[index]?.files ?? 0, 'file')}  ${formatBytes(counts[index]?.bytes ?? 0)}`,
    );
    return {
      facts: { definition: details.definition, roots: details.roots.map((root) => root.path), counts },
      lines: [`directory ${details.definition.path}`, ...lines],
      problems: [],
    };
  } catch (error) {
    return { facts: {}, lines: [], problems: [(error as Error).message] };
  }
}
