import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/base/errors.js';
import { createBackend } from '../../src/tui/backend.js';
import { runCli } from '../helpers/cli.js';
import { makeProject, snapshotTree } from '../helpers/project.js';

const CONFIG = { components: { 'marketing-spool': { kind: 'directory', path: 'docker/marketing-spool-*' } } };

/** A project and its archive of only `marketing-spool`, a component the project no longer declares. */
async function archiveOfUndeclaredComponent(): Promise<{ project: string; archive: string }> {
  const project = await makeProject();
  await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify(CONFIG));
  await mkdir(join(project, 'docker/marketing-spool-a'));
  await writeFile(join(project, 'docker/marketing-spool-a/queue.txt'), 'job 1\n');
  const backup = await runCli(['backup', '-c', 'marketing-spool', '-y'], { cwd: project });
  expect(backup.code, backup.stderr).toBe(0);
  await rename(join(project, 'orkestra-backup.json'), join(project, 'elsewhere.json'));
  return { project, archive: backup.stdout.trim() };
}

const NOTHING_SELECTED = (archive: string) =>
  'nothing to restore: ' +
  `${archive.split('/').pop()} holds only marketing-spool, which this project's orkestra-backup.json does not declare. ` +
  'To restore it as the archive defines it, name it: -c marketing-spool. Nothing was touched.';

describe('a restore that would restore nothing', () => {
  it('an archive whose only component the project does not declare: the dry run and the restore say nothing is selected, exit 2, nothing touched', async () => {
    const { project, archive } = await archiveOfUndeclaredComponent();
    const before = await snapshotTree(project);

    for (const args of [['--dry-run'], ['-y'], ['--dry-run', '--json']]) {
      const result = await runCli(['restore', archive, ...args], { cwd: project });
      expect(result.code, `${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(2);
      expect(result.stdout).not.toContain('components can be restored');
      const said = args.includes('--json') ? (JSON.parse(result.stdout) as { error: string }).error : result.stderr;
      expect(said).toContain(NOTHING_SELECTED(archive));
    }
    expect(await snapshotTree(project)).toEqual(before);
  });

  it("the interactive interface (its backend's restore preview) refuses the same archive with the same words, nothing touched", async () => {
    const { project, archive } = await archiveOfUndeclaredComponent();
    const before = await snapshotTree(project);
    const backend = await createBackend({ projectDir: project, containers: {}, settings: {} });
    const preview = backend.previewRestore(archive, undefined, () => undefined, new AbortController().signal);
    const refusal = await preview.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(UsageError);
    expect(`${(refusal as UsageError).message} ${(refusal as UsageError).hint}`).toBe(NOTHING_SELECTED(archive));
    expect(await snapshotTree(project)).toEqual(before);
  });
});
