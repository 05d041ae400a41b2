import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { list } from 'tar';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/base/format.js';
import { fillKey, hasRedisServer, startHostRedis, stopHostRedis } from '../helpers/hostRedis.js';
import { makeProject } from '../helpers/project.js';
import { hasTmux, TerminalSession } from '../helpers/tmux.js';

// No Docker: Redis is a redis-server on the host reached through REDIS_URL, beside the secrets.
const SHELL_ENV = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
const sessions: TerminalSession[] = [];
afterEach(() => sessions.splice(0).forEach((session) => session.close()));
afterAll(stopHostRedis);

function open(cwd: string, args: string[]): TerminalSession {
  const session = new TerminalSession(cwd, args, SHELL_ENV);
  sessions.push(session);
  return session;
}

interface OverallLine {
  percent: number;
  bytes: string;
  /** "≥" while a part is not sized yet. */
  atLeast: boolean;
  total: string;
  /** The screen it was drawn on: above the rows of work, or above the summary ("… complete"). */
  screen: 'working' | 'summary';
}

/**
 * Every overall line the program drew, from the raw terminal output (escape sequences removed),
 * in order: the frames a screen read between two polls would miss are in it too.
 */
async function overallLines(recording: string, workingTitle: string): Promise<OverallLine[]> {
  // eslint-disable-next-line no-control-regex
  const text = (await readFile(recording, 'utf8')).replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '\n');
  const matches = [...text.matchAll(/Overall\s+[█░]+ (\d+)%\s+(\S+ \w?B) of (≥?)(\S+ \w?B)/g)];
  return matches.map((match, index) => {
    // The summary's title follows its overall line, before the next frame's.
    const frame = text.slice(match.index, matches[index + 1]?.index);
    return {
      percent: Number(match[1]),
      bytes: match[2],
      atLeast: match[3] === '≥',
      total: match[4],
      screen: frame.includes(' complete') && !frame.includes(workingTitle) ? 'summary' : 'working',
    };
  });
}

/** The bytes of the components' files in the archive: what a backup moves and a restore reads. */
async function componentBytes(archive: string): Promise<number> {
  let bytes = 0;
  await list({
    file: archive,
    onReadEntry: (entry) => {
      if (/^(redis|secrets)\//.test(entry.path)) bytes += entry.size;
    },
  });
  return bytes;
}

describe.skipIf(!hasTmux || !hasRedisServer)('the overall progress bar in a pseudo-terminal (tmux, redis-server on the host)', () => {
  it('TUI: backup and restore of redis (REDIS_URL) and secrets show an overall bar with a percentage and total bytes that reaches 100 %, never more', async () => {
    const server = await startHostRedis();
    // Incompressible values, so the snapshot takes long enough to be drawn while it moves.
    for (let index = 0; index < 6; index += 1) {
      execFileSync('redis-cli', ['-p', String(server.port), '-x', 'SET', `blob:${index}`], { input: randomBytes(4 << 20) });
    }
    fillKey(server, 'hash', 'user:1', 20_000);
    const project = await makeProject({ env: `REDIS_URL=redis://127.0.0.1:${server.port}\n` });

    const backup = open(project, []);
    await backup.waitFor('Back up this deployment');
    await backup.press('Enter');
    await backup.waitFor(/\[x\] redis[\s\S]*\[x\] secrets/);
    await backup.press('Enter');
    await backup.waitFor('Back up now?');
    const backupRecording = join(project, 'backup.terminal');
    backup.record(backupRecording);
    await backup.press('y');
    const summary = await backup.waitFor('Backup complete', 60_000);
    const archive = /Archive: (\S+)/.exec(summary)![1];
    const moved = formatBytes(await componentBytes(archive));
    await backup.press('Enter');
    await backup.waitFor('EXIT=0');

    const backupLines = await overallLines(backupRecording, 'Backing up');
    expect(backupLines.filter((line) => line.screen === 'working').length).toBeGreaterThan(0);
    expect(backupLines.every((line) => line.percent <= 100)).toBe(true);
    expect(backupLines.at(-1)).toEqual({ percent: 100, bytes: moved, atLeast: false, total: moved, screen: 'summary' });
    expect(summary).toMatch(new RegExp(`Overall\\s+█+ 100%\\s+${moved} of ${moved}\\n`));

    server.cli('SET', 'added:later', 'removed by the restore');
    const restore = open(project, ['restore']);
    await restore.waitFor('Restore — choose an archive');
    await restore.press('Enter');
    await restore.waitFor('Restore everything');
    await restore.press('Enter');
    await restore.waitFor('[x] secrets');
    await restore.press('Enter');
    await restore.waitFor('Dry run — report');
    await restore.press('Down', 'Enter');
    await restore.waitFor('Type "restore" to continue', 60_000);
    const restoreRecording = join(project, 'restore.terminal');
    restore.record(restoreRecording);
    await restore.press('restore', 'Enter');
    await restore.waitFor('Restore complete', 60_000);
    await restore.press('Enter');
    await restore.waitFor('EXIT=0');
    expect(server.cli('EXISTS', 'added:later')).toBe('0');

    const restoreLines = await overallLines(restoreRecording, 'Restoring');
    const working = restoreLines.filter((line) => line.screen === 'working');
    // The archive's index sizes the whole restore before its first byte: no "≥", the same total throughout.
    expect(working.length).toBeGreaterThan(0);
    expect(working.every((line) => !line.atLeast && line.total === moved)).toBe(true);
    expect(restoreLines.every((line) => line.percent <= 100)).toBe(true);
    // The secrets are unchanged and not written again: the bar ends at the bytes the restore read.
    expect(restoreLines.at(-1)).toMatchObject({ percent: 100, screen: 'summary' });
    expect(restoreLines.at(-1)!.bytes).toBe(restoreLines.at(-1)!.total);
  });
});
