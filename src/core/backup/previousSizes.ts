import { dirname } from 'node:path';
import { archiveIndex } from '../../archive/fileIndex.js';
import { readManifest } from '../../archive/reader.js';
import { nameFacts } from '../archiveListing.js';
import { localShelf } from '../archiveShelf.js';
import { openedWith } from '../offsite.js';
import type { Session } from '../session.js';
import type { ArchiveTarget } from './targets.js';

/**
 * Each component's bytes in the newest archive of this deployment in the folder the backup
 * writes to: the size the overall bar counts on before a component gives its own (a MongoDB
 * dump, a bucket, a folder tell theirs only once done). One manifest read; nothing when there
 * is no such archive, it is encrypted (no key is asked for a figure), or the backup goes
 * elsewhere than a local folder.
 */
export async function previousSizes(session: Session, target: ArchiveTarget): Promise<ReadonlyMap<string, number>> {
  if (target.kind !== 'file') return new Map();
  try {
    const shelf = localShelf(dirname(target.path));
    const newest = (await shelf.entries())
      .map((entry) => ({ entry, facts: nameFacts(entry.name) }))
      .filter(({ facts }) => facts?.environment === session.project.environment && !facts.secrets)
      .sort((a, b) => b.facts!.createdAt.getTime() - a.facts!.createdAt.getTime() || b.facts!.sequence - a.facts!.sequence)
      .at(0);
    if (!newest) return new Map();
    const location = await openedWith(await shelf.open(newest.entry), undefined);
    try {
      const { manifest } = await readManifest(location);
      const index = archiveIndex(location, manifest);
      return new Map(index ? manifest.components.map((component) => [component, index.of(component).bytes]) : []);
    } finally {
      await location.close();
    }
  } catch {
    // Only an estimate: an archive that does not open leaves the components to size themselves.
    return new Map();
  }
}
