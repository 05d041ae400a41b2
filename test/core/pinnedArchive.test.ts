import { open, readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSession } from '../../src/app/session.js';
import { openRestoreArchive, previewRestore, runRestore, selectRestoreComponents } from '../../src/core/restore.js';
import { runCli } from '../helpers/cli.js';
import { ENV_TEXT, makeProject } from '../helpers/project.js';

/** Two archives of the same project's secrets: the one checked, and another with other bytes. */
async function twoArchives(project: string): Promise<{ checked: string; other: string }> {
  const backup = async () => (await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project })).stdout.trim();
  const checked = await backup();
  await writeFile(join(project, 'docker/.env'), 'ATTACKER_CHOSEN=1\n');
  const other = await backup();
  await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
  return { checked, other };
}

/** The restore as the CLI runs it, with a change to the archive between the check and the restore. */
async function restoreWithChangeAtTheGate(project: string, archive: string, change: () => Promise<void>) {
  const session = await openSession({ projectDir: project, containers: {}, settings: {} }, () => undefined, new AbortController().signal);
  const opened = await openRestoreArchive(archive, session);
  try {
    const { archive: checked, plans } = await previewRestore(session, opened, selectRestoreComponents(session, opened));
    await change();
    return await runRestore(session, checked, plans, { mode: 'move-aside' });
  } finally {
    await opened.location.close();
  }
}

describe('the archive is pinned from the check to the end of the restore', () => {
  it('another file put in its place after the check is refused, and nothing is restored', async () => {
    const project = await makeProject();
    const { checked, other } = await twoArchives(project);
    await expect(restoreWithChangeAtTheGate(project, checked, () => rename(other, checked))).rejects.toThrow(
      /changed after it was checked \(replaced or modified\)/,
    );
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe('EDITED=1\n');
  });

  it('bytes changed in place with size and time kept are caught while restoring, before the file is committed', async () => {
    const project = await makeProject();
    const { checked, other } = await twoArchives(project);
    const stamp = new Date('2026-11-30T00:00:00Z'); // a whole second, so it can be put back exactly
    await utimes(checked, stamp, stamp);
    const before = await stat(checked);
    const outcome = await restoreWithChangeAtTheGate(project, checked, async () => {
      // The other archive's bytes (same length here or shorter), written over the checked one.
      const replacement = await readFile(other);
      const handle = await open(checked, 'r+');
      await handle.write(replacement.subarray(0, Math.min(replacement.length, before.size)), 0, undefined, 0);
      await handle.close();
      await utimes(checked, stamp, stamp);
    });
    expect(outcome.failed?.component).toBe('secrets');
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).not.toContain('ATTACKER_CHOSEN');
    expect(ENV_TEXT).not.toContain('ATTACKER_CHOSEN');
  });
});
