import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { readTarBytes, writeTarBytes } from '../helpers/archives.js';
import { expectNoStackTrace, runCli, startCli } from '../helpers/cli.js';
import { hasRedisServer, startHostRedis, stopHostRedis } from '../helpers/hostRedis.js';
import { makeProject } from '../helpers/project.js';

const env = { DOCKER_HOST: 'unix:///nonexistent.sock' };

afterAll(stopHostRedis);

function keys(server: { cli: (...args: string[]) => string }): string {
  return server.cli(
    'EVAL',
    "local out = {} for _, k in ipairs(redis.call('KEYS', '*')) do out[#out+1] = k .. '=' .. redis.call('GET', k) end table.sort(out) return out",
    '0',
  );
}

describe.skipIf(!hasRedisServer)('what a selective Redis restore checks and leaves behind', { timeout: 120_000 }, () => {
  it('a selected key whose bytes in the archive were changed is refused (exit 2) before any key changes; a restore leaves no spool in TMPDIR', async () => {
    const server = await startHostRedis('spool-pw');
    server.cli('SET', 'pick:1', 'archived-value-one');
    server.cli('SET', 'other:1', 'archived-other');
    const project = await makeProject({ env: `REDIS_URL=redis://:spool-pw@127.0.0.1:${server.port}\n` });
    const backup = await runCli(['backup', '-c', 'redis', '-y'], { cwd: project, env });
    expect(backup.code, backup.stderr).toBe(0);
    server.cli('SET', 'pick:1', 'changed');
    server.cli('SET', 'other:1', 'changed');
    const before = keys(server);

    const tar = await readTarBytes(backup.stdout.trim());
    const at = tar.indexOf('archived-value-one');
    expect(at).toBeGreaterThan(0);
    tar[at] = 'X'.charCodeAt(0);
    const damaged = join(project, 'backups', 'damaged.tar.gz');
    await writeTarBytes(damaged, tar);
    const refused = await runCli(['restore', damaged, '--keys', 'pick:*', '-y'], { cwd: project, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('redis/dump.rdb fails its SHA-256 checksum');
    expect(refused.stderr).toContain('Nothing was touched');
    expectNoStackTrace(refused.stderr);
    expect(keys(server)).toBe(before);

    const temporary = await mkdtemp(join(tmpdir(), 'spool-check-'));
    const result = await runCli(['restore', backup.stdout.trim(), '--keys', 'pick:*', '-y'], {
      cwd: project,
      env: { ...env, TMPDIR: temporary },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(server.cli('GET', 'pick:1').trim()).toBe('archived-value-one');
    expect(server.cli('GET', 'other:1').trim()).toBe('changed');
    expect(await readdir(temporary)).toEqual([]);
  });

  it('a small selection is read from the archive once, by the plan: the restore reads only the selected keys it held (its progress counts them, not the RDB)', async () => {
    const server = await startHostRedis('held-pw', ['--enable-debug-command', 'yes']);
    server.cli('DEBUG', 'POPULATE', '20000', 'key', '64');
    const project = await makeProject({ env: `REDIS_URL=redis://:held-pw@127.0.0.1:${server.port}\n` });
    const backup = await runCli(['backup', '-c', 'redis', '-y'], { cwd: project, env });
    expect(backup.code, backup.stderr).toBe(0);
    const archived = server.cli('GET', 'key:12');
    server.cli('SET', 'key:12', 'changed');

    const result = await runCli(['restore', backup.stdout.trim(), '--keys', 'key:1?', '-y'], { cwd: project, env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('10 keys restored online');
    expect(server.cli('GET', 'key:12')).toBe(archived);
    const done = /redis: done, ([\d.]+) (B|kB|MB) in .* keys restored online/.exec(result.stderr);
    expect(done, result.stderr).not.toBeNull();
    const read = Number(done![1]) * { B: 1, kB: 1000, MB: 1_000_000 }[done![2] as 'B' | 'kB' | 'MB'];
    // Ten keys of 64 bytes, not the RDB of 20,000 keys the archive holds.
    expect(read).toBeLessThan(2000);
    expect((await readTarBytes(backup.stdout.trim())).length).toBeGreaterThan(200_000);
  });

  it('interrupted while it keeps the current values and spools the selected keys: nothing changed, exit 1, no spool left in TMPDIR', async () => {
    const server = await startHostRedis('sigint-pw', ['--enable-debug-command', 'yes']);
    server.cli('DEBUG', 'POPULATE', '300000', 'key', '512');
    const project = await makeProject({ env: `REDIS_URL=redis://:sigint-pw@127.0.0.1:${server.port}\n` });
    const backup = await runCli(['backup', '-c', 'redis', '-y'], { cwd: project, env });
    expect(backup.code, backup.stderr).toBe(0);
    server.cli('SET', 'key:1', 'changed');
    const temporary = await mkdtemp(join(tmpdir(), 'spool-sigint-'));
    const running = startCli(['restore', backup.stdout.trim(), '--keys', 'key:*', '-y'], {
      cwd: project,
      env: { ...env, TMPDIR: temporary },
    });
    await running.waitForStderr(/keeping the current values/, 60_000);
    await vi.waitFor(async () => expect((await readdir(temporary)).some((name) => name.startsWith('orkestra-keys-'))).toBe(true), {
      timeout: 30_000,
      interval: 20,
    });
    const [spool] = (await readdir(temporary)).filter((name) => name.startsWith('orkestra-keys-'));
    expect((await stat(join(temporary, spool))).mode & 0o777).toBe(0o700);
    running.signal('SIGINT');
    const result = await running.result;
    expect(result.code, result.stderr).toBe(1);
    expectNoStackTrace(result.stderr);
    expect(result.stderr).toContain('nothing was changed');
    expect(server.cli('GET', 'key:1')).toBe('changed');
    expect(await readdir(temporary)).toEqual([]);
  });
});
