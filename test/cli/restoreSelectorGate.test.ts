import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { ENV_TEXT, makeProject, snapshotTree } from '../helpers/project.js';
import { temporaryFolder } from '../helpers/tempFolders.js';
import { hasTmux, TerminalSession } from '../helpers/tmux.js';

const SHELL_ENV = { DOCKER_HOST: 'unix:///nonexistent/docker.sock', CI: 'true' };
const sessions: TerminalSession[] = [];
afterEach(() => sessions.splice(0).forEach((session) => session.close()));

function open(cwd: string, args: string[]): TerminalSession {
  const session = new TerminalSession(cwd, args, SHELL_ENV);
  sessions.push(session);
  return session;
}

/** The screen wraps long lines at its width: compared without any white space. */
function unwrapped(text: string): string {
  return text.replace(/\s+/g, '');
}

async function editedProject(): Promise<{ project: string; archive: string }> {
  const project = await makeProject();
  const backup = await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project });
  expect(backup.code).toBe(0);
  await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
  await writeFile(join(project, 'docker/keys/jwt-public.pem'), 'edited\n');
  return { project, archive: backup.stdout.trim() };
}

describe.skipIf(!hasTmux)('the gate of a selective restore, on a terminal (tmux)', () => {
  it('repeats the totals and what is replaced; only the selection changes', async () => {
    const { project, archive } = await editedProject();
    const terminal = open(project, ['restore', archive, '--files', '.env']);
    const gate = await terminal.waitFor('Type "restore" to continue');
    expect(unwrapped(gate)).toContain(
      unwrapped(
        'secrets: only the selection — 1 file in the archive: 0 to add, 1 to overwrite (different), 0 identical; replaces: docker/.env',
      ),
    );
    await terminal.press('restore', 'Enter');
    await terminal.waitFor('docker/.env exists and differs from the backup. Replace it');
    await terminal.press('y', 'Enter');
    await terminal.waitFor('EXIT=0');
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe(ENV_TEXT);
    expect(await readFile(join(project, 'docker/keys/jwt-public.pem'), 'utf8')).toBe('edited\n');
  });

  it('beside (--into): says where it writes and that the live target is not touched', async () => {
    const { project, archive } = await editedProject();
    const before = await snapshotTree(join(project, 'docker'));
    const into = join(await temporaryFolder('orkestra-into-'), 'out');
    const terminal = open(project, ['restore', archive, '--into', into]);
    const gate = await terminal.waitFor('Type "restore" to continue');
    expect(gate).toContain('will write:');
    expect(unwrapped(gate)).toContain(unwrapped(`written into ${into}, the live target is not touched`));
    await terminal.press('restore', 'Enter');
    await terminal.waitFor('EXIT=0');
    expect(await readFile(join(into, '.env'), 'utf8')).toBe(ENV_TEXT);
    expect(await snapshotTree(join(project, 'docker'))).toEqual(before);
  });

  it('a selector without an archive is a usage error, never the interface (which does not take selectors)', async () => {
    const project = await makeProject();
    const terminal = open(project, ['restore', '--files', '.env']);
    const screen = await terminal.waitFor('EXIT=2');
    expect(screen).toContain('restore needs the path of an archive');
  });
});
