import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appendHistory, historyPath } from '../../src/core/history/historyFile.js';
import { runCli } from '../helpers/cli.js';
import { ENV_TEXT, makeProject, snapshotTree } from '../helpers/project.js';
import { hasTmux, TerminalSession } from '../helpers/tmux.js';

// Docker components are unavailable here on purpose: these tests are about the terminal.
// CI=true is exported like a CI runner's debug shell does: Ink would then draw nothing until exit.
const SHELL_ENV = { DOCKER_HOST: 'unix:///nonexistent/docker.sock', CI: 'true' };
const sessions: TerminalSession[] = [];
afterEach(() => sessions.splice(0).forEach((session) => session.close()));

function open(cwd: string, args: string[]): TerminalSession {
  const session = new TerminalSession(cwd, args, SHELL_ENV);
  sessions.push(session);
  return session;
}

async function terminalRestored(project: string): Promise<boolean> {
  const [before, after] = await Promise.all([
    readFile(join(project, '.stty-before'), 'utf8'),
    readFile(join(project, '.stty-after'), 'utf8'),
  ]);
  return before === after;
}

async function backupThroughTui(project: string): Promise<string> {
  const tui = open(project, []);
  await tui.waitFor('Back up this deployment');
  await tui.press('Enter');
  await tui.waitFor('[x] secrets');
  expect(tui.screen()).toMatch(
    /\[-\] mongodb\s+unavailable: cannot reach the Docker engine at DOCKER_HOST=unix:\/\/\/nonexistent\/docker\.sock/,
  );
  await tui.press('Enter');
  await tui.waitFor('Back up now?');
  await tui.press('y');
  const summary = await tui.waitFor('Backup complete');
  await tui.press('Enter');
  await tui.waitFor('EXIT=0');
  expect(await terminalRestored(project)).toBe(true);
  return /Archive: (\S+)/.exec(summary)![1];
}

/** From `restore` without arguments to the gate: first archive, all its components, "Restore". */
async function reachGate(session: TerminalSession): Promise<void> {
  await session.waitFor('Restore — choose an archive');
  await session.press('Enter');
  await session.waitFor('Restore everything');
  await session.press('Enter');
  await session.waitFor('[x] secrets');
  await session.press('Enter');
  await session.waitFor('Dry run — report');
  await session.press('Down', 'Enter');
  await session.waitFor('Type "restore" to continue');
}

describe.skipIf(!hasTmux)('the real binary in a pseudo-terminal (tmux)', () => {
  it('TUI: a secrets backup, then a restore gated by the word "restore" (a wrong word changes nothing)', async () => {
    const project = await makeProject();
    const archive = await backupThroughTui(project);
    expect((await runCli(['verify', archive], { cwd: project })).code).toBe(0);

    await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
    const before = await snapshotTree(join(project, 'docker'));
    const wrong = open(project, ['restore']);
    await reachGate(wrong);
    expect(wrong.screen()).toContain('secrets: docker/.env');
    await wrong.press('restor', 'Enter');
    await wrong.waitFor('"restor" is not "restore": the restore was not started. Nothing was changed.');
    await wrong.press('q');
    await wrong.waitFor('EXIT=1');
    expect(await snapshotTree(join(project, 'docker'))).toEqual(before);

    const right = open(project, ['restore']);
    await reachGate(right);
    await right.press('restore', 'Enter');
    await right.waitFor('docker/.env exists and differs from the backup. Replace it');
    await right.press('y');
    await right.waitFor('Restore complete');
    await right.press('Enter');
    await right.waitFor('EXIT=0');
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe(ENV_TEXT);
    const aside = (await readdir(join(project, 'docker'))).find((name) => name.startsWith('.pre-restore-'))!;
    expect(await readFile(join(project, 'docker', aside, '.env'), 'utf8')).toBe('EDITED=1\n');
    expect(await terminalRestored(project)).toBe(true);
  });

  it('TUI: a dry run shows the report and returns; ctrl-c leaves a clean terminal (with CI=true exported in the shell)', async () => {
    const project = await makeProject();
    await backupThroughTui(project);
    const tui = open(project, ['restore']);
    await tui.waitFor('Restore — choose an archive');
    await tui.press('Enter', 'Enter', 'Enter');
    await tui.waitFor('Dry run — report');
    await tui.press('Enter');
    await tui.waitFor('Result: the component can be restored. Nothing was changed.');
    await tui.press('Enter');
    await tui.waitFor('› Dry run');
    await tui.press('C-c');
    await tui.waitFor('EXIT=1');
    expect(await terminalRestored(project)).toBe(true);
  });

  it('CLI on a terminal: restore <file> asks for the word "restore"; anything else aborts with nothing changed', async () => {
    const project = await makeProject();
    const archive = (await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project })).stdout.trim();
    await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
    const before = await snapshotTree(join(project, 'docker'));
    const cli = open(project, ['restore', archive]);
    await cli.waitFor('Type "restore" to continue:');
    expect(cli.screen()).toContain('secrets: docker/.env');
    await cli.press('yes', 'Enter');
    await cli.waitFor('restore not confirmed; nothing was changed.');
    await cli.waitFor('EXIT=1');
    expect(await snapshotTree(join(project, 'docker'))).toEqual(before);
  });

  it('CLI on a terminal: while one restore waits at an overwrite question, a second restore of the project is refused', async () => {
    const project = await makeProject();
    const archive = (await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project })).stdout.trim();
    await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
    const first = open(project, ['restore', archive]);
    await first.waitFor('Type "restore" to continue:');
    await first.press('restore', 'Enter');
    await first.waitFor('Replace it (the current file is kept in');
    const second = await runCli(['restore', archive, '-y'], { cwd: project });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another restore \(pid \d+, started .*\) is running on this project/);
    await first.press('n', 'Enter');
    await first.waitFor('EXIT=0');
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe('EDITED=1\n'); // "n" kept it
  });

  it('CLI on a terminal: a passphrase-encrypted archive asks for its passphrase without echoing it, then verifies', async () => {
    const project = await makeProject();
    await writeFile(join(project, 'pass.txt'), 'hidden words typed\n', { mode: 0o600 });
    const backup = await runCli(['backup', '-c', 'secrets', '-y', '--passphrase-file', join(project, 'pass.txt')], { cwd: project });
    expect(backup.code).toBe(0);
    const cli = open(project, ['verify', backup.stdout.trim()]);
    await cli.waitFor('Passphrase of the encrypted archive:');
    await cli.press('hidden words typed', 'Enter');
    const screen = await cli.waitFor('EXIT=0', 60_000);
    expect(screen).toContain('Result: sound.');
    expect(screen).not.toContain('hidden words typed');
  });
  it('TUI: Status on the start menu shows the status of the real backups and the last runs of the history; esc returns', async () => {
    const project = await makeProject();
    const archive = (await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project })).stdout.trim();
    const at = new Date().toISOString();
    await appendHistory(historyPath(join(project, 'backups')), {
      version: 1,
      command: 'drill',
      startedAt: at,
      endedAt: at,
      result: 'failure',
      exitCode: 1,
      error: 'secrets: files byte-identical',
      environment: 'local',
      host: 'test-host',
      archives: [{ location: archive }],
      drillOk: false,
    });
    const tui = open(project, []);
    await tui.waitFor('Status: the health of the backups, and the last runs');
    await tui.press('Down', 'Down', 'Down', 'Enter');
    await tui.waitFor('Status — backups of environment local');
    await tui.waitFor(/secrets\s+local\s+orkestra-backup-local-\d{8}-\d{6}\.tar\.gz\s+\d+ s\s+/);
    await tui.waitFor(`UNHEALTHY: the last drill (of ${basename(archive)}), at ${at}, failed`);
    await tui.waitFor(`${at}  drill    FAILED (exit 1): secrets: files byte-identical`);
    await tui.press('Escape');
    await tui.waitFor('› Back up this deployment');
    await tui.press('q');
    await tui.waitFor('EXIT=0');
    expect(await terminalRestored(project)).toBe(true);
  });
});
