import { filterItems } from '../base/asyncSequences.js';
import { UsageError } from '../base/errors.js';
import { withoutFinalPeriod } from '../base/format.js';
import { sha256Of } from '../integrity/sha256.js';
import type { BodySeeker } from './bodySeek.js';
import type { ArchiveIndex } from './fileIndex.js';
import { archiveProblem, type ArchiveCheck } from './reader.js';
import { ReadScope, type CheckScope } from './readScope.js';

/** Whether every component a selective check reads records where its files start (older archives do not). */
export function seekable(index: ArchiveIndex, only: CheckScope): boolean {
  return [...only.keys()].every((component) => index.of(component).files === 0 || index.of(component).at !== undefined);
}

/**
 * A selective restore's check of an archive that can be read from the middle: the index of each
 * component it reads, checked whole against the manifest, and each file it reads, found where its
 * index puts it and hashed. Nothing else is decompressed: at 2 GB, one bucket prefix's check
 * read 1.3 GB from the start to reach its objects.
 */
export async function checkBySeeking(
  seeker: BodySeeker,
  index: ArchiveIndex,
  only: CheckScope,
  onBytes: (bytes: number) => void,
  onScope: (bytes: number) => void,
): Promise<ArchiveCheck> {
  const problems: string[] = [];
  // A file not where its index puts it says so in its own words.
  const note = (error: unknown) => problems.push(withoutFinalPeriod(error instanceof UsageError ? error.message : archiveProblem(error)));
  let scope: ReadScope;
  try {
    scope = await ReadScope.of(index, only);
  } catch (error) {
    note(error);
    return { problems, unlisted: 0, index };
  }
  onScope(scope.toRead);
  for (const component of index.order) {
    if (!scope.covers(component)) continue;
    const wanted = filterItems(index.of(component).entries(), (file) => scope.reads(component, file));
    try {
      for await (const { file, size, content } of seeker.files(component, wanted)) {
        if (size !== file.size) {
          problems.push(`${component}/${file.path} is ${size} bytes, the manifest says ${file.size}`);
          continue; // left unread, the reader passes over it
        }
        if (file.sha256 !== undefined && file.sha256 !== (await sha256Of(content, onBytes))) {
          problems.push(`${component}/${file.path} fails its SHA-256 checksum`);
        }
        scope.checked(component, size);
      }
    } catch (error) {
      note(error);
    }
  }
  return { problems, unlisted: 0, index, checked: scope.totals() };
}
