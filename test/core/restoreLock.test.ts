import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireRestoreLock } from '../../src/core/restoreLock.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'okb-lock-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** The pid of a process that has exited: a lock naming it is stale. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
}

async function race(): Promise<number> {
  const results = await Promise.allSettled([acquireRestoreLock(dir), acquireRestoreLock(dir)]);
  const winners = results.filter((result) => result.status === 'fulfilled');
  for (const winner of winners) await (winner as PromiseFulfilledResult<() => Promise<void>>).value();
  return winners.length;
}

/**
 * Two processes (the built module, as the binary uses it) try to take the lock at once. A
 * winner holds it until both have tried (a release file), so that a slow start of the second
 * process on a busy machine cannot let it take a lock that was already given back.
 */
async function raceOfProcesses(round: number): Promise<number> {
  const module = new URL('../../dist/core/restoreLock.js', import.meta.url).href;
  const release = join(dir, `release-${round}`);
  const script = `const { acquireRestoreLock } = await import(${JSON.stringify(module)});
    const { existsSync } = await import('node:fs');
    let release;
    try { release = await acquireRestoreLock(process.argv[1]); console.log('taken'); } catch { console.log('refused'); }
    while (release && !existsSync(process.argv[2])) await new Promise((resolve) => setTimeout(resolve, 10));
    await release?.();`;
  const outputs: string[] = [];
  const children = [0, 1].map(
    () =>
      new Promise<void>((resolve, reject) => {
        const child = execFile(process.execPath, ['--input-type=module', '-e', script, dir, release], (error: Error | null) =>
          error ? reject(error) : resolve(),
        );
        child.stdout?.on('data', (chunk: Buffer) => outputs.push(chunk.toString().trim()));
      }),
  );
  while (outputs.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
  await writeFile(release, '');
  await Promise.all(children);
  await rm(release);
  return outputs.filter((output) => output === 'taken').length;
}

describe('the restore lock', () => {
  it('two restore processes started together never both take it (40 tries)', { timeout: 180_000 }, async () => {
    for (let attempt = 0; attempt < 40; attempt += 1) expect(await raceOfProcesses(attempt)).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it('two restores finding the same stale lock never both take it over (100 tries)', { timeout: 120_000 }, async () => {
    const dead = deadPid();
    for (let attempt = 0; attempt < 100; attempt += 1) {
      await writeFile(join(dir, '.orkestra-restore.lock'), `${dead} 2026-01-01T00:00:00Z\n`);
      expect(await race()).toBe(1);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('a live holder is named in the refusal; release removes only its own lock', async () => {
    const release = await acquireRestoreLock(dir);
    await expect(acquireRestoreLock(dir)).rejects.toThrow(`another restore (pid ${process.pid}, started`);
    const path = join(dir, '.orkestra-restore.lock');
    await writeFile(path, `${process.pid} someone-else\n`); // replaced behind our back
    await release();
    expect(await readFile(path, 'utf8')).toBe(`${process.pid} someone-else\n`);
  });
});
