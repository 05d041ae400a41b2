import { tarEntries } from '../../src/archive/tarStream.js';
import { writeRawArchive, type RawEntry } from './archives.js';

interface DirectoryRoot {
  path: string;
  mode: number;
  mtimeMs: number;
  folders: { path: string; mode: number; mtimeMs: number }[];
}

export interface EditableManifest {
  details: Record<string, { definition: { kind: string; path: string }; roots: DirectoryRoot[] }>;
  [field: string]: unknown;
}

/**
 * A copy of an archive made by the tool with its manifest changed (a crafted archive: every
 * file's checksum still matches, only what the manifest says about the files differs).
 */
export async function withEditedManifest(file: string, target: string, edit: (manifest: EditableManifest) => void): Promise<string> {
  const entries: RawEntry[] = [];
  for await (const entry of tarEntries(file)) entries.push({ path: entry.path, content: Buffer.from(await entry.bytes()) });
  const manifest = JSON.parse(String(entries[0].content)) as EditableManifest;
  edit(manifest);
  entries[0] = { path: 'manifest.json', content: JSON.stringify(manifest) };
  await writeRawArchive(target, entries);
  return target;
}
