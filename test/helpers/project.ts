import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, lstat, writeFile, chmod } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { temporaryFolder } from './tempFolders.js';

export const ENV_TEXT = 'MONGO_DATABASE=orkestra\nMONGO_ROOT_PASSWORD=hunter2-secret\nOAUTH_TOKEN_ENCRYPTION_KEY=k3y-material\n';
export const PRIVATE_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEv-test-only\n-----END PRIVATE KEY-----\n';
export const PUBLIC_KEY = '-----BEGIN PUBLIC KEY-----\nMIIBI-test-only\n-----END PUBLIC KEY-----\n';

/** A temporary Orkestra checkout with docker/.env and docker/keys/*, as an operator has. */
export async function makeProject(options: { env?: string | null; keys?: boolean } = {}): Promise<string> {
  const dir = await temporaryFolder('orkestra-project-');
  await mkdir(join(dir, 'docker'), { recursive: true });
  if (options.env !== null) await writeFile(join(dir, 'docker/.env'), options.env ?? ENV_TEXT, { mode: 0o600 });
  if (options.keys !== false) {
    await mkdir(join(dir, 'docker/keys'));
    await writeFile(join(dir, 'docker/keys/jwt-private.pem'), PRIVATE_KEY);
    await chmod(join(dir, 'docker/keys/jwt-private.pem'), 0o600);
    await writeFile(join(dir, 'docker/keys/jwt-public.pem'), PUBLIC_KEY);
  }
  return dir;
}

/**
 * Every file under a folder with its mode and SHA-256: two snapshots are equal only when the
 * tree is byte-for-byte unchanged.
 */
export async function snapshotTree(root: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  async function walk(folder: string): Promise<void> {
    for (const name of (await readdir(folder)).sort()) {
      const path = join(folder, name);
      const info = await lstat(path);
      const key = relative(root, path);
      if (info.isDirectory()) {
        result[`${key}/`] = `dir ${(info.mode & 0o777).toString(8)}`;
        await walk(path);
      } else {
        const digest = createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
        result[key] = `${(info.mode & 0o777).toString(8)} ${digest}`;
      }
    }
  }
  await walk(root);
  return result;
}
