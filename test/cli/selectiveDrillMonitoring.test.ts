import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { expectNoStackTrace, runCli } from '../helpers/cli.js';
import { spoolProject } from '../helpers/drillStack.js';
import { describeEngine, engineEnv } from '../helpers/engine.js';
import { ENV_TEXT, makeProject } from '../helpers/project.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhookReceiver.js';

/**
 * A selective drill proves its selection only: it is not the drill that `status` and the health
 * check watch, whether it passes or fails, even when it fails before its report.
 */
let hooks: WebhookReceiver | undefined;
afterAll(() => hooks?.close());

describeEngine('a selective drill is not the drill status and the health check watch', () => {
  it('a selective drill pings no health check; a whole drill pings /start and then the check', async () => {
    hooks = await startWebhookReceiver();
    const dir = await makeProject({ env: `${ENV_TEXT}ORKESTRA_HEALTHCHECK_URL=${hooks.origin}/ping/drill-check\n` });
    const backup = await runCli(['backup', '-c', 'secrets', '-y'], { cwd: dir, env: engineEnv() });
    expect(backup.code).toBe(0);
    const archive = backup.stdout.trim();
    const pingsBefore = hooks.requests.length;

    const selective = await runCli(['drill', archive, '--files', '.env'], { cwd: dir, env: engineEnv() });
    expect(selective.code, selective.stderr).toBe(0);
    expect(selective.stdout).toMatch(/Drill PASSED: the selection restores/);
    expect(hooks.requests.slice(pingsBefore)).toEqual([]);

    const whole = await runCli(['drill', archive], { cwd: dir, env: engineEnv() });
    expect(whole.code, whole.stderr).toBe(0);
    expect(hooks.requests.slice(pingsBefore).map((request) => request.path)).toEqual(['/ping/drill-check/start', '/ping/drill-check']);
  });

  it('one that fails before its report is recorded with its selection, and status still reports the last whole drill, which passed', async () => {
    const { dir, archive } = await spoolProject();
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

    // history says the failed run was a selective drill, not the whole drill it could be taken for.
    const shown = await runCli(['history'], { cwd: dir, env: engineEnv() });
    const rows = shown.stdout.trimEnd().split('\n');
    const failedRow = rows.findIndex((row) => /\bdrill\s+FAILED \(exit 1\)/.test(row));
    expect(rows[failedRow + 1]).toBe('    selective drill: spool --files inner');
    expect(rows.filter((row) => row.includes('selective drill'))).toHaveLength(1);

    const status = await runCli(['status', '--json'], { cwd: dir, env: engineEnv() });
    const report = JSON.parse(status.stdout);
    expect(report.lastDrill).toMatchObject({ ok: true, at: JSON.parse(history.at(-2)!).endedAt });
    expect(report.reasons ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/drill/)]));
  });
});
