import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';

/**
 * Whether the `age` CLI (Debian: `age`) is here for the interop tests. Without it they are
 * skipped and say so, except under ORKESTRA_TEST_REQUIRE_ENGINE=1 (CI), where that is a failure.
 */
export const hasAgeCli = (() => {
  try {
    execFileSync('age', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.ORKESTRA_TEST_REQUIRE_ENGINE === '1')
      throw new Error('the age CLI is required (Debian package age; .ci/run installs it)');
    return false;
  }
})();

/** A fresh age key pair: the identity in a 0600 file as age-keygen writes it, and its recipient. */
export async function ageKeyPair(folder: string, name = 'key.txt'): Promise<{ identityFile: string; recipient: string }> {
  const identity = await generateIdentity();
  const identityFile = join(folder, name);
  await writeFile(identityFile, `# created by the tests\n${identity}\n`, { mode: 0o600 });
  return { identityFile, recipient: await identityToRecipient(identity) };
}
