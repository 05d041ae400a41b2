import type { ArchiveLocation } from '../../archive/location.js';
import type { Manifest } from '../../archive/manifest.js';
import { checkArchive, readManifest } from '../../archive/reader.js';
import { RuntimeError } from '../../base/errors.js';

/** A backup is not done until the archive it wrote has been read back whole. */
export async function readBack(path: ArchiveLocation, manifest: Manifest): Promise<void> {
  const { manifest: written } = await readManifest(path);
  if (JSON.stringify(written.index) !== JSON.stringify(manifest.index)) {
    throw new RuntimeError('the archive read back does not hold the manifest that was written.');
  }
  const { problems } = await checkArchive(path, written);
  if (problems.length > 0) {
    throw new RuntimeError(`the archive failed its read-back check: ${problems[0]}.`, {
      hint: 'Nothing was kept; check the disk and run the backup again.',
    });
  }
}
