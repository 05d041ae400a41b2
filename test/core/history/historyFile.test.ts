import { spawn } from 'node:child_process';
import { appendFile, chmod, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { appendHistory, historyPath, readHistory } from '../../../src/core/history/historyFile.js';
import type { HistoryRecord } from '../../../src/model/history.js';
import { temporaryFolder } from '../../helpers/tempFolders.js';

/** The built module, as the binary loads it: each writer process appends through it. */
const BUILT = fileURLToPath(new URL('../../../dist/core/history/historyFile.js', import.meta.url));

function record(command: HistoryRecord['command'], startedAt: string, summary = ''): HistoryRecord {
  return {
    version: 1,
    command,
    startedAt,
    endedAt: startedAt,
    result: 'success',
    exitCode: 0,
    environment: 'local',
    host: 'test',
    components: { secrets: { summary } },
  };
}

/** A process that appends `count` records, each larger than a pipe's atomic write (4 KiB), as fast as it can. */
function writer(path: string, id: number, count: number): Promise<number | null> {
  const code = `
    const { appendHistory } = await import(${JSON.stringify(BUILT)});
    const padding = 'x'.repeat(6000);
    await Promise.all(Array.from({ length: ${count} }, (_, n) => appendHistory(${JSON.stringify(path)}, {
      version: 1, command: 'backup', startedAt: 'w${id}-' + n, endedAt: 'e', result: 'success', exitCode: 0,
      environment: 'local', host: 'writer-${id}', components: { secrets: { summary: padding } },
    })));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
}

describe('the history file', () => {
  it('eight processes appending 100 records each at once: every one of the 800 lines is whole and parses, none lost or repeated', async () => {
    const path = historyPath(join(await temporaryFolder('okb-history-race-'), 'backups'));
    const codes = await Promise.all(Array.from({ length: 8 }, (_, id) => writer(path, id, 100)));
    expect(codes).toEqual(Array(8).fill(0));
    const { records, unreadable } = await readHistory(path);
    expect(unreadable).toBe(0);
    expect(records).toHaveLength(800);
    const seen = new Set(records.map((entry) => entry.startedAt));
    for (let id = 0; id < 8; id += 1) for (let n = 0; n < 100; n += 1) expect(seen.has(`w${id}-${n}`)).toBe(true);
    expect(records.every((entry) => entry.components?.secrets.summary?.length === 6000)).toBe(true);
  });

  it('is created with mode 0600 in a backups/ folder made for it, and stays 0600 when it was looser', async () => {
    const path = historyPath(join(await temporaryFolder('okb-history-mode-'), 'backups'));
    await appendHistory(path, record('backup', '2026-01-01T00:00:00.000Z'));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await chmod(path, 0o644);
    await appendHistory(path, record('verify', '2026-01-01T00:00:01.000Z'));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('is never written through a symbolic link planted in its place: the file it names keeps its bytes and mode', async () => {
    const folder = await temporaryFolder('okb-history-link-');
    const victim = join(folder, 'victim.txt');
    await writeFile(victim, 'victim\n', { mode: 0o644 });
    await chmod(victim, 0o644);
    await mkdir(join(folder, 'backups'));
    const path = historyPath(join(folder, 'backups'));
    await symlink(victim, path);
    await expect(appendHistory(path, record('backup', '2026-01-01T00:00:00.000Z'))).rejects.toThrow();
    expect(await readFile(victim, 'utf8')).toBe('victim\n');
    expect((await stat(victim)).mode & 0o777).toBe(0o644);
  });

  it('reads the newest records with a limit, skips a torn or foreign line, and is empty when missing', async () => {
    const path = historyPath(join(await temporaryFolder('okb-history-read-'), 'backups'));
    expect(await readHistory(path)).toEqual({ records: [], unreadable: 0 });
    for (let n = 0; n < 5; n += 1) await appendHistory(path, record('backup', `2026-01-01T00:00:0${n}.000Z`));
    await appendFile(path, '{"version":1,"command":"backup","startedAt":"cut\nnot json\n');
    await appendHistory(path, record('prune', '2026-01-01T00:00:09.000Z'));
    const { records, unreadable } = await readHistory(path, 2);
    expect(records.map((entry) => entry.startedAt)).toEqual(['2026-01-01T00:00:04.000Z', '2026-01-01T00:00:09.000Z']);
    expect(unreadable).toBe(2);
  });
});
