import { tarStreamEntries } from '../../archive/tarStream.js';
import { readDetails } from '../../archive/componentDetails.js';
import type { ComponentSource } from '../../archive/componentSource.js';
import type { ExamineContext, FoundItem, NameMatcher } from '../../core/component.js';
import { contentEntries, contentPath, isFile, unreadableContent, VolumeDetailsSchema } from './content.js';

/**
 * The regular files of the volume's content tar whose path inside the folder matches (the files
 * `--files` can pick), read as the tar streams by: each entry is skipped unread.
 */
export async function* findVolumeFiles(name: string, { source }: ExamineContext, matches: NameMatcher): AsyncGenerator<FoundItem> {
  const [group] = volumeGroup(name, source);
  for await (const entry of contentEntries(source)) {
    try {
      for await (const read of tarStreamEntries(entry.content, { compressed: false })) {
        if (!isFile(read)) continue;
        const path = contentPath(read.path);
        if (path !== '' && matches(path)) yield { group, kind: 'file', name: path, bytes: read.size };
      }
    } catch (error) {
      throw unreadableContent(source, name, error);
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
