import { afterAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describeEngine, engineEnv, engineStack } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { execText, startRedis, uniqueName, type StackContext } from '../engine/stack.js';

/**
 * A selective Redis drill against a copy that does not keep what was restored: the live
 * container's command also runs a loop that, wherever the key `live-marker` is missing (only in a
 * drill's copy, which starts empty and gets the session keys only), overwrites `session:a` with
 * another string. The copy then holds the right count of keys, each of the right type and expiry,
 * and one wrong value: the drill must fail on it.
 */
const SCRIPT = [
  "redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no &",
  'while :; do',
  '  if [ "$(redis-cli EXISTS live-marker 2>/dev/null)" = "0" ]; then redis-cli SET session:a tampered XX >/dev/null 2>&1; fi',
  '  sleep 0.02',
  'done',
].join('\n');

let stack: StackContext | undefined;
let name: string | undefined;
afterAll(async () => {
  if (stack && name)
    await stack.docker
      .getContainer(name)
      .remove({ force: true, v: true })
      .catch(() => undefined);
});

describeEngine('a selective Redis drill compares the values it samples', () => {
  it('fails when a selected key holds another value of the same type in the copy: count, type and expiry alone pass it', async () => {
    stack = engineStack();
    name = uniqueName('okb-tamper-redis');
    const container = await stack.docker.createContainer({
      name,
      Image: stack.images.redis,
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: [SCRIPT],
      HostConfig: { Init: true, NetworkMode: stack.images.mode === 'upstream' ? 'bridge' : 'none' },
    });
    await container.start();
    const redis = (...args: string[]) => execText(stack!, name!, ['redis-cli', ...args]);
    for (let ready = ''; !ready.includes('PONG'); ready = await redis('PING'));
    await redis('SET', 'live-marker', '1');
    await redis('SET', 'session:a', 'original');
    await redis('HSET', 'session:b', 'user', 'ada');
    await redis('SET', 'config:site', 'orkestra');
    expect(await redis('GET', 'session:a')).toBe('original\n');

    const project = await makeProject();
    const env = { ...engineEnv(), ORKESTRA_REDIS_CONTAINER: name };
    const backup = await runCli(['backup', '-c', 'redis', '-y'], { cwd: project, env });
    expect(backup.code, backup.stderr).toBe(0);

    const result = await runCli(['drill', backup.stdout.trim(), '--keys', 'session:*', '--json'], {
      cwd: project,
      env,
      timeoutMs: 240_000,
    });
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(false);
    const checks = report.components[0].checks as { name: string; ok: boolean; measured: string }[];
    expect(checks.find((check) => check.name.startsWith('the copy holds exactly'))).toMatchObject({ ok: true });
    expect(checks.find((check) => check.name.startsWith('sampled keys present'))).toMatchObject({ ok: true });
    expect(checks.find((check) => check.name === 'sampled keys hold their archived values')).toMatchObject({
      ok: false,
      measured: '1 of 2 differ: session:a',
    });
    expect(result.code).toBe(1);
    expect(await redis('GET', 'session:a')).toBe('original\n');
  });

  it('passes when selected keys expire while the drill runs: restored, then expired, they are not missing keys', async () => {
    stack = engineStack();
    const live = await startRedis(stack, uniqueName('okb-ttl-redis'), { appendonly: false });
    try {
      // 3,000 session keys expiring one every 3 ms from 8 s on: some expire between the restore and the count.
      const commands = Array.from({ length: 3000 }, (_, index) => `SET session:${index} v PX ${8000 + index * 3}`).join('\n');
      await execText(stack, live.name, ['sh', '-c', `printf '%s\\n' "$0" | redis-cli > /dev/null`, commands]);
      await execText(stack, live.name, ['redis-cli', 'SET', 'session:kept', 'forever']);
      const project = await makeProject();
      const env = { ...engineEnv(), ORKESTRA_REDIS_CONTAINER: live.name };
      const backup = await runCli(['backup', '-c', 'redis', '-y'], { cwd: project, env });
      expect(backup.code, backup.stderr).toBe(0);
      // The drill starts once the first keys have expired, so that expiries fall within it.
      for (let first = ''; !first.startsWith('0'); first = await execText(stack, live.name, ['redis-cli', 'EXISTS', 'session:0']));
      const result = await runCli(['drill', backup.stdout.trim(), '--keys', 'session:*', '--json'], {
        cwd: project,
        env,
        timeoutMs: 240_000,
      });
      const report = JSON.parse(result.stdout);
      const [count] = report.components[0].checks as { name: string; ok: boolean; expected: string }[];
      expect(count).toMatchObject({ name: "the copy holds exactly the selection's keys of the archived RDB", ok: true });
      expect(count.expected).toMatch(/keys expired since\)$/);
      expect(report.ok, result.stdout).toBe(true);
      expect(result.code).toBe(0);
    } finally {
      await live.remove();
    }
  });

  it('a whole drill passes an archive whose keys have expired since the backup: Redis does not load them', async () => {
    stack = engineStack();
    const live = await startRedis(stack, uniqueName('okb-expired-redis'), { appendonly: false });
    try {
      const redis = (...args: string[]) => execText(stack!, live.name, ['redis-cli', ...args]);
      await redis('SET', 'config:site', 'orkestra');
      for (const index of [1, 2, 3]) await redis('SET', `session:${index}`, 'v', 'PX', '6000');
      const project = await makeProject();
      const env = { ...engineEnv(), ORKESTRA_REDIS_CONTAINER: live.name };
      const backup = await runCli(['backup', '-c', 'redis', '-y'], { cwd: project, env });
      expect(backup.code, backup.stderr).toBe(0);
      for (let left = ''; !left.startsWith('0'); left = await redis('EXISTS', 'session:1', 'session:2', 'session:3'));
      const result = await runCli(['drill', backup.stdout.trim(), '--json'], { cwd: project, env, timeoutMs: 240_000 });
      const report = JSON.parse(result.stdout);
      expect(report.components[0].checks).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            name: 'key count equals the archived RDB',
            ok: true,
            expected: '1 key to 4 keys (3 keys expired since)',
            measured: '1 key',
          }),
        ]),
      );
      expect(result.code, result.stdout).toBe(0);
    } finally {
      await live.remove();
    }
  });
});
