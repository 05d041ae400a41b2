import { posix } from 'node:path';
import { tarStreamEntries } from '../../archive/tarStream.js';
import { readDetails } from '../../archive/componentDetails.js';
import type { ComponentSource } from '../../archive/componentSource.js';
import type { ExamineContext, FoundItem, NameMatcher } from '../../core/component.js';
import { CONTENT_ENTRY, damaged, VolumeDetailsSchema } from './content.js';

/**
 * The regular files of the volume's content tar whose path inside the folder matches (the files
 * `--files` can pick), read as the tar streams by: each entry is skipped unread.
 */
export async function* findVolumeFiles(name: string, { source }: ExamineContext, matches: NameMatcher): AsyncGenerator<FoundItem> {
  const [group] = volumeGroup(name, source);
  for await (const entry of source.entries()) {
    if (entry.path !== CONTENT_ENTRY) {
      entry.content.resume();
      continue;
    }
    try {
      for await (const read of tarStreamEntries(entry.content, { compressed: false })) {
        if (read.type !== 'File' && read.type !== 'OldFile' && read.type !== 'ContiguousFile') continue;
        const path = posix.normalize(read.path).replace(/^(?:\.\/)+/, '');
        if (path !== '' && path !== '.' && matches(path)) yield { group, kind: 'file', name: path, bytes: read.size };
      }
    } catch (error) {
      throw damaged(source, `${name}/${CONTENT_ENTRY} is not a readable tar (${(error as Error).message})`);
    }
  }
}

/** The one folder of the volume, as the manifest records it. */
export function volumeGroups(name: string, { source }: ExamineContext): Promise<FoundItem['group'][]> {
  return Promise.resolve(volumeGroup(name, source));
}

function volumeGroup(name: string, source: ComponentSource): [FoundItem['group']] {
  const details = readDetails(VolumeDetailsSchema, source, name);
  return [{ kind: 'volume', name: details ? `${details.container}:${details.path}` : name }];
}
