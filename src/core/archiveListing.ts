import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readManifest } from '../archive/reader.js';
import { printable } from '../base/format.js';

export interface ArchiveListing {
  file: string;
  name: string;
  bytes: number;
  modifiedMs: number;
  environment?: string;
  createdAt?: string;
  components?: string[];
  /** Why the manifest could not be read; the archive is still listed. */
  problem?: string;
}

/** The archives in ./backups/, newest first, described from their manifests alone. */
export async function listArchives(folder: string): Promise<ArchiveListing[]> {
  const names = (await readdir(folder).catch(() => [])).filter((name) => !name.startsWith('.') && /\.(tar\.gz|tgz)$/.test(name));
  const listings = await Promise.all(
    names.map(async (name): Promise<ArchiveListing> => {
      const file = join(folder, name);
      const info = await stat(file);
      const base = { file, name, bytes: info.size, modifiedMs: info.mtimeMs };
      if (info.size === 0) return { ...base, problem: 'empty file (0 bytes)' };
      try {
        const { manifest } = await readManifest(file);
        return {
          ...base,
          environment: printable(manifest.environment),
          createdAt: printable(manifest.createdAt),
          components: manifest.components.map(printable),
        };
      } catch (error) {
        return { ...base, problem: printable((error as Error).message) };
      }
    }),
  );
  return listings.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.modifiedMs - a.modifiedMs);
}
