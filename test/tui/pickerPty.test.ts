import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { ENV_TEXT, makeProject } from '../helpers/project.js';
import { hasTmux, TerminalSession } from '../helpers/tmux.js';

// Docker components are unavailable here on purpose: the secrets are files of the project.
const SHELL_ENV = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
const sessions: TerminalSession[] = [];
afterEach(() => sessions.splice(0).forEach((session) => session.close()));

describe.skipIf(!hasTmux)('the TUI picker in a pseudo-terminal (tmux)', () => {
  it('TUI: Pick what to restore → secrets → docker → .env (filtered), in place: only docker/.env comes back, an edited key file stays as it is', async () => {
    const project = await makeProject();
    const backup = await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project });
    expect(backup.code).toBe(0);
    await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
    await writeFile(join(project, 'docker/keys/jwt-public.pem'), 'edited public key\n');

    const tui = new TerminalSession(project, ['restore'], SHELL_ENV);
    sessions.push(tui);
    await tui.waitFor('Restore — choose an archive');
    await tui.press('Enter');
    await tui.waitFor('Pick what to restore');
    await tui.press('Down', 'Enter');
    await tui.waitFor(/› secrets/);
    await tui.press('l');
    await tui.waitFor('[ ] docker');
    await tui.press('l');
    await tui.waitFor('keys/jwt-public.pem');
    await tui.press('/', '.env', 'Enter');
    await tui.waitFor('filter: .env');
    await tui.waitFor(/› \[ \] \.env/);
    expect(tui.screen()).not.toContain('jwt-public.pem');
    await tui.press('Space');
    await tui.waitFor('[x] .env');
    await tui.press('Enter');
    await tui.waitFor('Selectors: --files .env');
    await tui.press('Enter'); // in place
    await tui.waitFor('Components: secrets (only the picks)');
    await tui.press('Down', 'Enter'); // restore
    await tui.waitFor('Type "restore" to continue');
    await tui.press('restore', 'Enter');
    await tui.waitFor('docker/.env exists and differs from the backup. Replace it');
    await tui.press('y');
    await tui.waitFor('Restore complete');
    await tui.press('Enter');
    await tui.waitFor('EXIT=0');

    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe(ENV_TEXT);
    expect(await readFile(join(project, 'docker/keys/jwt-public.pem'), 'utf8')).toBe('edited public key\n');
    const aside = (await readdir(join(project, 'docker'))).find((name) => name.startsWith('.pre-restore-'))!;
    expect(await readdir(join(project, 'docker', aside))).toEqual(['.env']);
  });
});
