import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const created: string[] = [];

/** A fresh folder under the system temp dir, removed when the test file is done. */
export async function temporaryFolder(prefix: string): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), prefix));
  created.push(folder);
  return folder;
}

/** Registered for every test file through vitest's setupFiles. */
export function removeTemporaryFoldersAfterAll(): void {
  afterAll(async () => {
    await Promise.all(created.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
  });
}
