import type { IndexedFile } from './fileIndex.js';
import { UsageError } from '../base/errors.js';
import type { ComponentSource } from './componentSource.js';

/** Far more files than secrets, Redis or a MongoDB dump ever have. */
const SMALL_LIST_LIMIT = 10_000;

/**
 * The whole file list of a component that has a handful of files (secrets, Redis, MongoDB), for
 * lookups by path. A list far longer than such a component has is damage, refused unread.
 */
export async function smallFileList(source: ComponentSource, component: string): Promise<IndexedFile[]> {
  const tooMany = () =>
    new UsageError(
      `${source.archiveName}: ${component} has ${source.fileCount.toLocaleString('en-US')} files, far more than it ever has.`,
      {
        hint: 'The archive is damaged or hostile; nothing was touched.',
      },
    );
  if (source.fileCount > SMALL_LIST_LIMIT) throw tooMany();
  const files: IndexedFile[] = [];
  for await (const file of source.files()) {
    files.push(file);
    if (files.length > SMALL_LIST_LIMIT) throw tooMany();
  }
  return files;
}
