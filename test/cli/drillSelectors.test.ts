import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectNoStackTrace, runCli } from '../helpers/cli.js';
import { spoolProject, startDrillStack, type DrillStack } from '../helpers/drillStack.js';
import { Containers, describeEngine, engineEnv, imageMode } from '../helpers/engine.js';
import { mongodumpArchive } from '../helpers/mongoNamespaces.js';
import { seed, snapshotStore } from '../helpers/s3.js';
import { execText, type StackContext } from '../engine/stack.js';

/**
 * `drill` with restore selectors, through the binary against the real engine: real Redis and a
 * real S3 protocol server (s3rver) copied from the live containers; MongoDB through the STAND-INS
 * (mongorestore's per-namespace report, no server to count on). A selective drill restores only
 * the selection into copies that start empty, and checks exactly that.
 */
const containers = new Containers();
let stack: StackContext;
let project: string;
let env: NodeJS.ProcessEnv;
let names: DrillStack['names'];
let client: DrillStack['client'];
let redis: DrillStack['redis'];
let drillLeftovers: DrillStack['drillLeftovers'];
let archive: string;

async function lastRecord(): Promise<Record<string, unknown>> {
  const history = (await readFile(join(project, 'backups/.orkestra-backup-history.jsonl'), 'utf8')).trimEnd().split('\n');
  return JSON.parse(history.at(-1)!) as Record<string, unknown>;
}

function drill(args: string[]) {
  return runCli(['drill', archive, ...args], { cwd: project, env, timeoutMs: 300_000 });
}

type ReportedComponent = { name: string; selection?: unknown; checks: { name: string; ok: boolean; expected: string; measured: string }[] };

beforeAll(async () => {
  ({ stack, names, client, project, env, redis, drillLeftovers } = await startDrillStack(containers, 'pick'));
  await redis('SET', 'session:a', '1');
  await redis('SET', 'session:b', '2', 'PX', '3600000');
  await redis('HSET', 'session:c', 'user', 'ada');
  await redis('SET', 'config:site', 'orkestra');
  await redis('RPUSH', 'queue:jobs', 'a', 'b');
  await redis('-n', '1', 'SET', 'session:other-db', 'x');
  await seed(
    client,
    ['avatars', 'exports'],
    [
      { bucket: 'avatars', key: 'u/1.png', body: Buffer.from('png-1'), contentType: 'image/png' },
      { bucket: 'avatars', key: 'u/2.png', body: Buffer.from('png-2'), contentType: 'image/png' },
      { bucket: 'avatars', key: 'banner.png', body: Buffer.from('banner'), contentType: 'image/png' },
      { bucket: 'exports', key: 'report.csv', body: Buffer.from('a,b\n'), contentType: 'text/csv' },
    ],
  );
  if (imageMode !== 'upstream') {
    const dump = mongodumpArchive('test', {
      users: [
        { _id: 1, name: 'ada' },
        { _id: 2, name: 'grace' },
      ],
      audit_a: [{ _id: 1 }],
      orders: [{ _id: 1 }, { _id: 2 }, { _id: 3 }],
    });
    const script = `rm -f /stand-in/server.archive* && echo ${dump.toString('base64')} | busybox base64 -d > /stand-in/server.archive`;
    await execText(stack, names.mongo, ['sh', '-c', script]);
  }
  const backup = await runCli(['backup', 'all', '-y'], { cwd: project, env });
  expect(backup.stderr).not.toContain('FAILED');
  expect(backup.code).toBe(0);
  archive = backup.stdout.trim();
});
afterAll(() => containers.removeAll());

describeEngine('drill with selectors: restore only the selection into the copies, and check exactly it', () => {
  it("--keys 'session:*' --db 0 restores only those keys into the Redis copy and passes; the live Redis is untouched", async () => {
    const before = await redis('--scan');
    const result = await drill(['--keys', 'session:*', '--db', '0', '--json']);
    expect(result.stderr).not.toMatch(/FAILED/);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ ok: true, selective: true, canariesNotChecked: [] });
    // Only the component a selector picks from is drilled: one copy, of Redis.
    expect(report.components.map((component: ReportedComponent) => component.name)).toEqual(['redis']);
    const [redisReport] = report.components as ReportedComponent[];
    expect(redisReport.selection).toEqual({ keys: ['session:*'], db: ['0'] });
    // The copy started empty: it holds the three session keys of database 0, and no other key of the archive.
    expect(redisReport.checks).toEqual([
      expect.objectContaining({
        name: "the copy holds exactly the selection's keys of the archived RDB",
        ok: true,
        expected: '3 keys',
        measured: '3 keys',
      }),
      expect.objectContaining({ name: 'sampled keys present with their type and expiry', ok: true, measured: 'all 3 as archived' }),
      expect.objectContaining({ name: 'sampled keys hold their archived values', ok: true, measured: 'all 3 as archived' }),
    ]);
    expect(await redis('--scan')).toBe(before);
    expect(await drillLeftovers()).toEqual([]);
    expect(await lastRecord()).toMatchObject({
      command: 'drill',
      result: 'success',
      drillOk: true,
      drillSelection: { redis: { keys: ['session:*'], db: ['0'] } },
    });

    const text = await drill(['--keys', 'session:*', '--db', '0']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("Selective drill: only redis --keys 'session:*' --db 0 restored into the copies and checked");
    expect(text.stdout).toMatch(/Drill PASSED: the selection restores; 3 checks passed\./);
  });

  it('--objects avatars/u/ restores only those objects into the S3 copy: each identical, no other object there', async () => {
    const before = await snapshotStore(client);
    const result = await drill(['--objects', 'avatars/u/', '--json']);
    expect(result.stderr).not.toMatch(/FAILED/);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.components.map((component: ReportedComponent) => component.name)).toEqual(['rustfs']);
    expect(report.components[0].checks).toEqual([
      expect.objectContaining({ name: 'every selected object present with its size and SHA-256', ok: true, measured: 'all 2 identical' }),
      expect.objectContaining({ name: 'the copy holds no object outside the selection', ok: true, measured: '2 objects, all selected' }),
    ]);
    expect(await snapshotStore(client)).toEqual(before);
    expect(await drillLeftovers()).toEqual([]);
  });

  it('--files .env restores only docker/.env into the drill folder: identical, its keys as fingerprinted, no other secret file', async () => {
    const result = await drill(['--files', '.env', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.components.map((component: ReportedComponent) => component.name)).toEqual(['secrets']);
    expect(report.components[0].checks).toEqual([
      expect.objectContaining({ name: 'secret files byte-identical to the archive', ok: true, expected: '1 file' }),
      expect.objectContaining({ name: 'no secret file outside the selection written', ok: true }),
      expect.objectContaining({ name: 'encryption keys of the restored .env match the backup', ok: true }),
    ]);
  });

  it.skipIf(imageMode === 'upstream')(
    '--ns users restores only test.users into the MongoDB copy, as mongorestore reports it [STAND-IN]',
    async () => {
      const result = await drill(['--ns', 'users', '--json']);
      expect(result.stderr).not.toMatch(/FAILED/);
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report.components.map((component: ReportedComponent) => component.name)).toEqual(['mongodb']);
      expect(report.components[0].checks).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            name: 'documents restored per namespace, as mongorestore reported',
            ok: true,
            expected: "1 namespace, 2 documents (the selection's dump)",
          }),
          expect.objectContaining({ name: 'no namespace outside the selection restored, as mongorestore reported', ok: true }),
        ]),
      );
      expect(await drillLeftovers()).toEqual([]);
    },
  );

  it('a canary outside the selection neither runs nor fails a selective drill: it is named as not checked', async () => {
    await writeFile(
      join(project, 'orkestra-backup.json'),
      JSON.stringify({ canaries: [{ name: 'site config', redis: { key: 'config:site' } }] }),
    );
    try {
      const result = await drill(['--keys', 'session:a', '--json']);
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report).toMatchObject({ ok: true, canariesNotChecked: ['site config'], unmatchedCanaries: [] });
      expect(report.components[0].checks.filter((check: { canary?: string }) => check.canary)).toEqual([]);
      expect(report.components[0].checks[0]).toMatchObject({ ok: true, expected: '1 key', measured: '1 key' });
    } finally {
      await writeFile(join(project, 'orkestra-backup.json'), '{}');
    }
  });

  it('a selector matching nothing exits 2 naming it, and leaves no copy behind', async () => {
    const result = await drill(['--keys', 'nothing:*']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--keys nothing:\* matches no key of redis in orkestra-backup-/);
    expectNoStackTrace(result.stderr);
    expect(await drillLeftovers()).toEqual([]);
  });

  it('beside selectors and --delete-missing exit 2 with the reason, before any copy is started', async () => {
    const refusals: [string[], RegExp][] = [
      [['--keys', 'session:*', '--db', '0', '--to-db', '1'], /--to-db restores beside the live target, and a drill always restores beside/],
      [['--files', '.env', '--into', join(project, 'out')], /--into restores beside the live target, and a drill always restores beside/],
      [['--objects', 'avatars', '--to-bucket', 'spare'], /--to-bucket restores beside the live target/],
      [['--ns', 'users', '--to-database', 'spare'], /--to-database restores beside the live target/],
      [['--keys', 'session:*', '--delete-missing'], /--delete-missing means nothing in a drill: a drill's copy starts empty/],
      [['-c', 'redis'], /drill -c goes with a selector/],
    ];
    for (const [args, reason] of refusals) {
      const result = await drill(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(reason);
      expect(result.stderr).toMatch(/Nothing was started\./);
      expectNoStackTrace(result.stderr);
    }
    expect(await drillLeftovers()).toEqual([]);
  });
});

describeEngine('drill with --files on a directory component', () => {
  it('-c spool --files inner restores only inner/ of the folder into the drill folder: identical, no other file written', async () => {
    const { dir, archive: spooled } = await spoolProject();

    // --files is taken by secrets and spool alike: the drill asks which, as restore does.
    const ambiguous = await runCli(['drill', spooled, '--files', 'inner'], { cwd: dir, env: engineEnv() });
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/--files could apply to secrets, spool: name the one it picks from\. Add -c secrets/);

    const result = await runCli(['drill', spooled, '-c', 'spool', '--files', 'inner', '--json'], { cwd: dir, env: engineEnv() });
    expect(result.stderr).not.toMatch(/FAILED/);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.components.map((component: ReportedComponent) => component.name)).toEqual(['spool']);
    expect(report.components[0].checks).toEqual([
      expect.objectContaining({ name: 'selected files byte-identical to the archive', ok: true, expected: '1 file' }),
      expect.objectContaining({ name: 'no file outside the selection written', ok: true }),
    ]);
  });
});
