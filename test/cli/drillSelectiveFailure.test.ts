import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { expectNoStackTrace, runCli } from '../helpers/cli.js';
import { describeEngine, engineEnv } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';

/**
 * A selective drill that fails before its report (here: its temporary folder cannot be made) is
 * recorded as selective all the same, so `status` keeps judging by the last whole drill.
 */
describeEngine('a selective drill that fails or is interrupted before its report', () => {
  it('is recorded with its selection, and status still reports the last whole drill, which passed', async () => {
    const dir = await makeProject();
    await writeFile(
      join(dir, 'orkestra-backup.json'),
      JSON.stringify({ components: { spool: { kind: 'directory', path: 'docker/spool' } } }),
    );
    await mkdir(join(dir, 'docker/spool/inner'), { recursive: true });
    await writeFile(join(dir, 'docker/spool/inner/run.sh'), '#!/bin/sh\nid\n');
    await writeFile(join(dir, 'docker/spool/note.txt'), 'hello\n');
    const backup = await runCli(['backup', '-c', 'spool,secrets', '-y'], { cwd: dir, env: engineEnv() });
    expect(backup.code).toBe(0);
    const archive = backup.stdout.trim();
    const whole = await runCli(['drill', archive], { cwd: dir, env: engineEnv() });
    expect(whole.code, whole.stderr).toBe(0);

    const failed = await runCli(['drill', archive, '-c', 'spool', '--files', 'inner'], {
      cwd: dir,
      env: { ...engineEnv(), TMPDIR: join(dir, 'no-such-folder') },
    });
    expect(failed.code).toBe(1);
    expectNoStackTrace(failed.stderr);
    const history = (await readFile(join(dir, 'backups/.orkestra-backup-history.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(JSON.parse(history.at(-1)!)).toMatchObject({
      command: 'drill',
      result: 'failure',
      drillSelection: { spool: { files: ['inner'] } },
    });

    const status = await runCli(['status', '--json'], { cwd: dir, env: engineEnv() });
    const report = JSON.parse(status.stdout);
    expect(report.lastDrill).toMatchObject({ ok: true, at: JSON.parse(history.at(-2)!).endedAt });
    expect(report.reasons ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/drill/)]));
  });
});
