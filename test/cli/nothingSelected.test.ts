import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeProject, snapshotTree } from '../helpers/project.js';

const CONFIG = { components: { 'marketing-spool': { kind: 'directory', path: 'docker/marketing-spool-*' } } };

describe('a restore that would restore nothing', () => {
  it('an archive whose only component the project does not declare: the dry run and the restore say nothing is selected, exit 2, nothing touched', async () => {
    const project = await makeProject();
    await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify(CONFIG));
    await mkdir(join(project, 'docker/marketing-spool-a'));
    await writeFile(join(project, 'docker/marketing-spool-a/queue.txt'), 'job 1\n');
    const backup = await runCli(['backup', '-c', 'marketing-spool', '-y'], { cwd: project });
    expect(backup.code, backup.stderr).toBe(0);
    const archive = backup.stdout.trim();
    await rename(join(project, 'orkestra-backup.json'), join(project, 'elsewhere.json'));
    const before = await snapshotTree(project);

    for (const args of [['--dry-run'], ['-y'], ['--dry-run', '--json']]) {
      const result = await runCli(['restore', archive, ...args], { cwd: project });
      expect(result.code, `${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(2);
      expect(result.stdout).not.toContain('components can be restored');
      const said = args.includes('--json') ? (JSON.parse(result.stdout) as { error: string }).error : result.stderr;
      expect(said).toContain(
        'nothing to restore: ' +
          `${archive.split('/').pop()} holds only marketing-spool, which this project's orkestra-backup.json does not declare. ` +
          'To restore it as the archive defines it, name it: -c marketing-spool. Nothing was touched.',
      );
    }
    expect(await snapshotTree(project)).toEqual(before);
  });
});
