import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Crc64 } from '../../src/integrity/crc64.js';
import { downgradeToV1 } from '../helpers/archives.js';
import { runCli, startCli } from '../helpers/cli.js';
import { startDrillStack, type DrillStack } from '../helpers/drillStack.js';
import { Containers, describeEngine, imageMode } from '../helpers/engine.js';
import { snapshotTree } from '../helpers/project.js';
import { deleteObject, seed, snapshotStore } from '../helpers/s3.js';
import { readContainerFile, type StackContext } from '../engine/stack.js';

/**
 * `drill` through the binary against the real engine: real Redis and a real S3 protocol server
 * (s3rver, not RustFS) copied from the live containers; MongoDB through the STAND-INS, which
 * report per-namespace counts as mongorestore does but hold no server (the server-side count is
 * reported as skipped, with the reason).
 */
const label = imageMode === 'upstream' ? '' : ' (mongodb through the STAND-INS)';
const containers = new Containers();
let stack: StackContext;
let project: string;
let env: NodeJS.ProcessEnv;
let names: DrillStack['names'];
let client: DrillStack['client'];
let redis: DrillStack['redis'];
let drillLeftovers: DrillStack['drillLeftovers'];
let redisPassword: string;

/** Every key of db 0 and 1 with its DUMP payload and absolute expiry: equal only when the data is unchanged. */
const FINGERPRINT = `local out = {}
for db = 0, 1 do
  redis.call('SELECT', db)
  local keys, cursor = {}, '0'
  repeat
    local page = redis.call('SCAN', cursor, 'COUNT', 1000)
    cursor = page[1]
    for _, key in ipairs(page[2]) do keys[#keys + 1] = key end
  until cursor == '0'
  table.sort(keys)
  for _, key in ipairs(keys) do
    out[#out + 1] = db .. ':' .. key .. '=' .. redis.call('DUMP', key) .. '@' .. redis.call('PEXPIRETIME', key)
  end
end
return out`;

/**
 * What a drill must leave exactly as it was: the project folder (its history aside, which gains
 * the drill's record), the live data, the live containers' start times.
 */
async function liveState() {
  const { ['backups/.orkestra-backup-history.jsonl']: _history, ...tree } = await snapshotTree(project);
  void _history;
  const started = await Promise.all(
    Object.values(names).map(async (name) => (await stack.docker.getContainer(name).inspect()).State.StartedAt),
  );
  return {
    tree,
    redis: await redis('EVAL', FINGERPRINT, '0'),
    objects: await snapshotStore(client),
    mongoCalls: (await readContainerFile(stack, names.mongo, '/stand-in/calls.log')).toString('utf8'),
    started,
  };
}

async function backup(): Promise<string> {
  const result = await runCli(['backup', 'all', '-y'], { cwd: project, env });
  expect(result.stderr).not.toContain('FAILED');
  expect(result.code).toBe(0);
  return result.stdout.trim();
}

beforeAll(async () => {
  ({ stack, names, client, project, env, redis, drillLeftovers, redisPassword } = await startDrillStack(containers, 'drill'));
  await redis('SET', 'config:site', 'orkestra');
  await redis('SET', 'session:short', 'x', 'PX', '3600000');
  await redis('HSET', 'user:1', 'name', 'ada', 'role', 'admin');
  await redis('RPUSH', 'queue:jobs', 'a', 'b', 'c');
  await redis('SADD', 'tags', '1', '2', '3');
  await redis('ZADD', 'scores', '1', 'ada', '2', 'grace');
  await redis('XADD', 'events', '*', 'kind', 'login');
  await redis('XGROUP', 'CREATE', 'events', 'workers', '0');
  await redis('-n', '1', 'SET', 'other:db', 'yes');
  await seed(
    client,
    ['avatars', 'exports'],
    [
      { bucket: 'avatars', key: 'u/1.png', body: Buffer.from('png-bytes'), contentType: 'image/png' },
      { bucket: 'exports', key: 'report.csv', body: Buffer.from('a,b\n1,2\n'), contentType: 'text/csv' },
    ],
  );
});
afterAll(() => containers.removeAll());

describeEngine('drill: restore into throwaway copies of the live stack, then prove the data', () => {
  it(`a four-component archive drills green while the live stack keeps running and stays byte-identical${label}`, async () => {
    const archive = await backup();
    const before = await liveState();
    const drill = await runCli(['drill', archive, '--json'], { cwd: project, env, timeoutMs: 300_000 });
    expect(drill.stderr).not.toMatch(/FAILED/);
    expect(drill.code).toBe(0);
    const report = JSON.parse(drill.stdout);
    expect(report.ok).toBe(true);
    expect(report.components.map((component: { name: string }) => component.name)).toEqual(['mongodb', 'redis', 'rustfs', 'secrets']);
    const checks = Object.fromEntries(
      report.components.map((component: { name: string; checks: { name: string }[] }) => [component.name, component.checks]),
    );
    expect(checks.redis).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'Redis loaded the restored files', ok: true }),
        expect.objectContaining({ name: 'key count equals the archived RDB', ok: true, expected: '8 keys', measured: '8 keys' }),
        expect.objectContaining({ name: 'sampled keys present with their type and expiry', ok: true, measured: 'all 8 as archived' }),
      ]),
    );
    expect(checks.rustfs[0]).toMatchObject({ ok: true, expected: expect.stringMatching(/^2 objects/), measured: 'all 2 identical' });
    expect(checks.secrets).toEqual([
      expect.objectContaining({ name: 'secret files byte-identical to the archive', ok: true, expected: '3 files' }),
      expect.objectContaining({ name: 'encryption keys of the restored .env match the backup', ok: true }),
    ]);
    expect(checks.mongodb[0]).toMatchObject({ name: 'documents restored per namespace, as mongorestore reported', ok: true });
    if (imageMode !== 'upstream') expect(checks.mongodb[1]).toMatchObject({ skipped: expect.stringMatching(/no MongoDB server answered/) });
    // Restored into the copies, named for the drill: the live containers were only read.
    expect(report.components[1].restored).toContain(`orkestra-drill-${report.id}-redis`);
    expect(report.phases.map((phase: { name: string }) => phase.name)).toEqual([
      'archive check',
      'start',
      'plan',
      'restore',
      'checks',
      'cleanup',
    ]);
    expect(await liveState()).toEqual(before);
    expect(await drillLeftovers()).toEqual([]);
    // The history's drill record: each component's restore time in the drill, for status.
    const history = (await readFile(join(project, 'backups/.orkestra-backup-history.jsonl'), 'utf8')).trimEnd().split('\n');
    const record = JSON.parse(history.at(-1)!);
    expect(record).toMatchObject({ command: 'drill', result: 'success', exitCode: 0, drillOk: true, archives: [{ location: archive }] });
    for (const name of ['mongodb', 'redis', 'rustfs', 'secrets'])
      expect(record.components[name]).toMatchObject({ seconds: expect.any(Number), ok: true, bytes: expect.any(Number) });
  });

  it('an archive whose RDB this Redis cannot load (version bumped, checksums recomputed: verify passes) fails the drill on redis', async () => {
    const archive = await backup();
    const bumped = join(project, 'backups', 'bumped-rdb.tar.gz');
    await downgradeToV1(archive, bumped, (path, content) => (path === 'redis/dump.rdb' ? withRdbVersion(content, 99) : content));
    const verify = await runCli(['verify', bumped], { cwd: project, env });
    expect(verify.code).toBe(0);
    const drill = await runCli(['drill', bumped], { cwd: project, env, timeoutMs: 300_000 });
    expect(drill.code).toBe(1);
    expect(drill.stdout).toMatch(
      /redis {2}FAILED: the backup's RDB is version 99, newer than Redis [\d.]+ in orkestra-drill-\w+-redis can load/,
    );
    expect(drill.stdout).toMatch(/Drill FAILED: redis: /);
    expect(await drillLeftovers()).toEqual([]);
    const history = (await readFile(join(project, 'backups/.orkestra-backup-history.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(JSON.parse(history.at(-1)!)).toMatchObject({
      command: 'drill',
      result: 'failure',
      exitCode: 1,
      drillOk: false,
      error: expect.stringMatching(/^drill failed: redis: /),
      components: { redis: { ok: false } },
    });
  });

  it('an archive missing an object an orkestra-backup.json canary names fails on that canary, and only on it', async () => {
    await writeFile(
      join(project, 'orkestra-backup.json'),
      JSON.stringify({
        canaries: [
          { name: 'site logo', s3: { bucket: 'avatars', key: 'logo.png' } },
          { name: 'site config key', redis: { key: 'config:site', type: 'string' } },
        ],
      }),
    );
    try {
      // The logo existed, then was lost before last night's backup: the canary must catch it.
      await seed(client, [], [{ bucket: 'avatars', key: 'logo.png', body: Buffer.from('logo') }]);
      await deleteObject(client, 'avatars', 'logo.png');
      const archive = await backup();
      const drill = await runCli(['drill', archive, '--json'], { cwd: project, env, timeoutMs: 300_000 });
      expect(drill.code).toBe(1);
      const report = JSON.parse(drill.stdout);
      expect(report.failures).toEqual(['rustfs: site logo']);
      const canaries = report.components.flatMap((component: { checks: { canary?: string }[] }) =>
        component.checks.filter((check) => check.canary),
      );
      expect(canaries).toEqual([
        expect.objectContaining({ name: 'site config key', ok: true, measured: 'a string' }),
        expect.objectContaining({ name: 'site logo', ok: false, expected: 'avatars/logo.png', measured: 'no such object' }),
      ]);
    } finally {
      await writeFile(join(project, 'orkestra-backup.json'), '{}');
    }
  });

  it('SIGINT mid-drill, and SIGKILL followed by drill --cleanup, leave no container, network or volume with the drill label', async () => {
    const archive = await backup();
    const interrupted = startCli(['drill', archive], { cwd: project, env });
    await interrupted.waitForStderr(/redis: (starting a throwaway copy|answers)/, 120_000);
    interrupted.signal('SIGINT');
    const stopped = await interrupted.result;
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/interrupted by SIGINT/);
    expect(await drillLeftovers()).toEqual([]);

    const killed = startCli(['drill', archive], { cwd: project, env });
    await killed.waitForStderr(/rustfs: .*answers/, 120_000);
    killed.signal('SIGKILL');
    await killed.result;
    expect((await drillLeftovers()).length).toBeGreaterThan(0);
    const cleanup = await runCli(['drill', '--cleanup'], { cwd: project, env });
    expect(cleanup.code).toBe(0);
    expect(cleanup.stdout).toMatch(/Removed left-over drills: \w+/);
    expect(await drillLeftovers()).toEqual([]);
  });

  it('--image replaces a missing live container; an image that cannot start fails the drill (exit 1) with its last log lines', async () => {
    const archive = await backup();
    const noLive = ['--container', 'redis=okb-no-such-redis'];
    const working = await imageRunning('okb-test/drill-redis:ok', [
      'redis-server',
      '--save',
      '',
      '--appendonly',
      'no',
      '--requirepass',
      redisPassword,
    ]);
    const drill = await runCli(['drill', archive, ...noLive, '--image', `redis=${working}`, '--json'], {
      cwd: project,
      env,
      timeoutMs: 300_000,
    });
    expect(drill.code).toBe(0);
    const report = JSON.parse(drill.stdout);
    expect(report.components.find((component: { name: string }) => component.name === 'redis').checks).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'key count equals the archived RDB', ok: true })]),
    );

    const broken = await imageRunning('okb-test/drill-redis:broken', [
      'sh',
      '-c',
      'echo "FATAL CONFIG FILE ERROR (drill test)" >&2; exit 1',
    ]);
    const failed = await runCli(['drill', archive, ...noLive, '--image', `redis=${broken}`], { cwd: project, env, timeoutMs: 300_000 });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /the throwaway redis container \(image okb-test\/drill-redis:broken\) did not start: it is exited; its last log lines: FATAL CONFIG FILE ERROR \(drill test\)/,
    );
    expect(await drillLeftovers()).toEqual([]);
  });

  it('no live container and no --image for a component: exit 2 naming the flag, nothing started', async () => {
    const archive = await backup();
    const drill = await runCli(['drill', archive, '--container', 'redis=okb-no-such-redis'], { cwd: project, env });
    expect(drill.code).toBe(2);
    expect(drill.stderr).toMatch(/no live container okb-no-such-redis to copy for redis\. Pass --image redis=<image>/);
    expect(await drillLeftovers()).toEqual([]);
  });
});

/** An image of the test Redis whose command is `cmd` (committed from a stopped container), as --image takes it. */
async function imageRunning(reference: string, cmd: string[]): Promise<string> {
  const container = await stack.docker.createContainer({ Image: stack.images.redis, Cmd: cmd });
  try {
    const [repo, tag] = reference.split(':');
    await container.commit({ repo, tag });
  } finally {
    await container.remove({ force: true });
  }
  return reference;
}

/** The RDB with another version in its header and its CRC-64 recomputed: sound to every reader but Redis. */
function withRdbVersion(rdb: Buffer, version: number): Buffer {
  const bumped = Buffer.from(rdb);
  bumped.write(`REDIS${String(version).padStart(4, '0')}`, 0, 'latin1');
  const crc = Crc64.jones();
  crc.update(bumped.subarray(0, bumped.length - 8));
  bumped.writeBigUInt64LE(crc.digest(), bumped.length - 8);
  return bumped;
}
