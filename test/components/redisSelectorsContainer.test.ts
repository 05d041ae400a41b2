import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectNoStackTrace, runCli, startCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, writeDotenv } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { execText, startRedis, uniqueName, type StackContext } from '../engine/stack.js';

/**
 * restore --keys without REDIS_URL: the Redis of the project's container, reached through a relay
 * the engine runs inside it (its Redis listens on the container's loopback only, network "none").
 */

const PASSWORD = 'redis-pick-pw';
const containers = new Containers();
let stack: StackContext;

beforeAll(() => {
  stack = engineStack();
});
afterAll(() => containers.removeAll());

function cli(name: string, ...args: string[]): Promise<string> {
  return execText(stack, name, ['redis-cli', ...args], [`REDISCLI_AUTH=${PASSWORD}`]);
}

/** Per database, per key: the SHA-1 of its DUMP and whether it has an expiry. */
async function dumps(name: string): Promise<Record<string, string>> {
  const script = `local out = {}
for _, key in ipairs(redis.call('KEYS', '*')) do
  out[#out + 1] = key .. ' ' .. redis.sha1hex(redis.call('DUMP', key)) .. ' ' .. (redis.call('PTTL', key) > 0 and 'expires' or 'persistent')
end
return out`;
  const all: Record<string, string> = {};
  for (const db of [0, 1, 2]) {
    for (const line of (await cli(name, '-n', String(db), 'EVAL', script, '0')).split('\n').filter((entry) => entry.trim() !== '')) {
      const [key, sha, ttl] = line.trim().split(' ');
      all[`${db}/${key}`] = `${sha} ${ttl}`;
    }
  }
  return all;
}

const pick = (all: Record<string, string>, test: (key: string) => boolean) =>
  Object.fromEntries(Object.entries(all).filter(([key]) => test(key)));

async function fill(name: string, db: number, prefix: string, from: number, to: number, value: string): Promise<void> {
  await cli(name, '-n', String(db), 'EVAL', `for i = ${from}, ${to} do redis.call('SET', '${prefix}' .. i, '${value}-' .. i) end`, '0');
}

describeEngine('restore --keys through the container, without REDIS_URL', () => {
  it(
    'restores exactly the matched keys (--delete-missing deletes the absent ones), every other key keeps its DUMP, --to-db leaves the live database as it is, and Redis keeps running',
    { timeout: 180_000 },
    async () => {
      const name = containers.track(await startRedis(stack, uniqueName('okb-redis-pick'), { password: PASSWORD })).name;
      const project = await makeProject({ keys: false });
      await writeDotenv(project, { REDIS_PASSWORD: PASSWORD });
      const run = (args: string[]) => runCli([...args, '--container', `redis=${name}`], { cwd: project, env: engineEnv() });
      await fill(name, 0, 'session:', 1, 50, 'archived');
      await fill(name, 0, 'user:', 1, 20, 'archived');
      await fill(name, 1, 'session:', 1, 5, 'archived');
      const archived = await dumps(name);
      const backup = await run(['backup', '-c', 'redis', '-y']);
      expect(backup.code, backup.stderr).toBe(0);
      const archive = backup.stdout.trim();
      await fill(name, 0, 'session:', 1, 10, 'changed');
      await cli(name, 'EVAL', "for i = 40, 50 do redis.call('DEL', 'session:' .. i) end", '0');
      await fill(name, 0, 'session:new', 1, 3, 'new');
      await fill(name, 0, 'user:', 1, 20, 'changed');
      await fill(name, 1, 'session:', 1, 5, 'changed');
      const startedAt = (await stack.docker.getContainer(name).inspect()).State.StartedAt;
      const session0 = (key: string) => key.startsWith('0/session:');

      const beside = ['--keys', 'session:*', '--db', '0', '--to-db', '2'];
      const before = await dumps(name);
      const dryRun = await run(['restore', archive, ...beside, '--dry-run']);
      expect(dryRun.code, dryRun.stderr).toBe(0);
      expect(dryRun.stdout).toContain(`Redis at ${name} (through the engine`);
      expect(dryRun.stdout).toContain('50 keys in the archive: 50 to add, 0 to overwrite');
      const besideRun = await run(['restore', archive, ...beside, '-y']);
      expect(besideRun.code, besideRun.stderr).toBe(0);
      const afterBeside = await dumps(name);
      const inDb2 = (key: string) => key.startsWith('2/');
      expect(pick(afterBeside, (key) => !inDb2(key))).toEqual(before);
      expect(pick(afterBeside, inDb2)).toEqual(
        Object.fromEntries(Object.entries(pick(archived, session0)).map(([key, value]) => [`2/${key.slice(2)}`, value])),
      );

      const inPlace = ['--keys', 'session:*', '--db', '0', '--delete-missing'];
      const result = await run(['restore', archive, ...inPlace, '-y']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout + result.stderr).toContain('3 keys absent from the archive deleted');
      const after = await dumps(name);
      expect(pick(after, session0)).toEqual(pick(archived, session0));
      expect(pick(after, (key) => !session0(key))).toEqual(pick(afterBeside, (key) => !session0(key)));
      expect((await stack.docker.getContainer(name).inspect()).State.StartedAt).toBe(startedAt);
      const clients = await cli(name, 'CLIENT', 'LIST');
      expect(clients.trim().split('\n')).toHaveLength(1); // no relay connection left open
    },
  );

  it(
    'a restore whose relay connection is killed midway puts the kept values back through a new relay, and says so',
    { timeout: 180_000 },
    async () => {
      const name = containers.track(await startRedis(stack, uniqueName('okb-redis-pick'), { password: PASSWORD })).name;
      const project = await makeProject({ keys: false });
      await writeDotenv(project, { REDIS_PASSWORD: PASSWORD });
      const env = engineEnv();
      await cli(name, 'EVAL', "for i = 1, 60000 do redis.call('SET', 'bulk:' .. i, string.rep('v', 64) .. i) end", '0');
      const backup = await runCli(['backup', '-c', 'redis', '-y', '--container', `redis=${name}`], { cwd: project, env });
      expect(backup.code, backup.stderr).toBe(0);
      await cli(name, 'EVAL', "for i = 1, 60000 do redis.call('SET', 'bulk:' .. i, 'changed-' .. i) end", '0');
      await cli(name, 'SET', 'other', 'stays');
      const before = await dumps(name);
      const args = ['restore', backup.stdout.trim(), '--keys', 'bulk:*', '-y', '--container', `redis=${name}`];
      const restore = startCli(args, { cwd: project, env });
      const deadline = Date.now() + 120_000;
      // Under way: values of the archive are back for some keys (its values are 64 v's and a number).
      while (
        !(
          await cli(
            name,
            'EVAL',
            "local n = 0 for i = 1, 60000, 600 do if string.sub(redis.call('GET', 'bulk:' .. i), 1, 1) == 'v' then n = n + 1 end end return n",
            '0',
          )
        )
          .trim()
          .match(/^[1-9]/)
      ) {
        if (Date.now() > deadline) throw new Error('the restore never got under way');
      }
      await cli(name, 'CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      const result = await restore.result;
      const output = result.stdout + result.stderr;
      expect(result.code, output).toBe(1);
      expect(output).toMatch(
        new RegExp(
          `the selective restore into Redis at ${name} stopped \\(.*\\); the kept values were put back \\([\\d,]+ keys given its previous value, 0 added keys deleted\\)`,
        ),
      );
      expectNoStackTrace(output);
      expect(await dumps(name)).toEqual(before);
    },
  );
});
