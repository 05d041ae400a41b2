import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { hasRedisServer, startHostRedis, stopHostRedis } from '../helpers/hostRedis.js';
import { offsiteEnv, startOffsiteServer, type OffsiteServer } from '../helpers/offsite.js';
import { makeProject } from '../helpers/project.js';
import { s3Client } from '../helpers/s3.js';

/** No engine: every run here needs none. */
const NO_DOCKER = { DOCKER_HOST: 'unix:///nonexistent.sock' };
const PASSWORD = 'Hist0ry-never-Say-this-pw';

afterAll(stopHostRedis);

/** The records of a project's history file, every line parsed (a line that does not parse fails the test). */
async function historyLines(project: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(project, 'backups', '.orkestra-backup-history.jsonl'), 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe.skipIf(!hasRedisServer)('history of runs through the binary (redis-server on the host, no Docker)', () => {
  it('backup, verify, restore, a refused restore (exit 1, no secret in its error), prune: one 0600 line each with its fields; bad input and a dry run add none', async () => {
    const redis = await startHostRedis(PASSWORD);
    redis.cli('SET', 'greeting', 'hello');
    redis.cli('RPUSH', 'queue', 'a', 'b', 'c');
    const live = `REDIS_URL=redis://:${PASSWORD}@127.0.0.1:${redis.port}\nORKESTRA_ENV=history\n`;
    const project = await makeProject({ env: live });
    const cli = (args: string[]) => runCli(args, { cwd: project, env: NO_DOCKER });

    const first = await cli(['backup', '-c', 'redis', '-y']);
    expect(first.code, first.stderr).toBe(0);
    const archive = first.stdout.trim();
    const archiveBytes = (await stat(archive)).size;
    expect((await cli(['verify', archive])).code).toBe(0);
    const restore = await cli(['restore', archive, '-y']);
    expect(restore.code, restore.stderr).toBe(0);
    expect((await cli(['restore', archive, '--dry-run'])).code).toBe(0);
    expect((await cli(['restore', join(project, 'missing.tar.gz'), '-y'])).code).toBe(2);
    // The server goes away: the restore is refused before any change, exit 1.
    await writeFile(join(project, 'docker/.env'), `REDIS_URL=redis://:${PASSWORD}@127.0.0.1:1\nORKESTRA_ENV=history\n`);
    const refused = await cli(['restore', archive, '-y']);
    expect(refused.code).toBe(1);
    await writeFile(join(project, 'docker/.env'), live);
    const second = await cli(['backup', '-c', 'redis', '-y']);
    expect(second.code, second.stderr).toBe(0);
    expect((await cli(['prune', 'backups', '--keep-last', '1', '--dry-run'])).code).toBe(0);
    const prune = await cli(['prune', 'backups', '--keep-last', '1']);
    expect(prune.code, prune.stderr).toBe(0);

    const path = join(project, 'backups', '.orkestra-backup-history.jsonl');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).not.toContain(PASSWORD);
    const records = await historyLines(project);
    expect(records.map((record) => [record.command, record.result, record.exitCode])).toEqual([
      ['backup', 'success', 0],
      ['verify', 'success', 0],
      ['restore', 'success', 0],
      ['restore', 'failure', 1],
      ['backup', 'success', 0],
      ['prune', 'success', 0],
    ]);
    const [backup, verify, restored, failed, , pruned] = records;
    expect(backup).toMatchObject({
      version: 1,
      environment: 'history',
      archives: [{ location: archive, bytes: archiveBytes, backupId: expect.stringMatching(/^[0-9a-f-]{36}$/) }],
      components: { redis: { bytes: expect.any(Number), seconds: expect.any(Number), ok: true } },
    });
    expect(Date.parse(backup.endedAt as string)).toBeGreaterThanOrEqual(Date.parse(backup.startedAt as string));
    expect((backup.components as Record<string, { bytes: number }>).redis.bytes).toBeGreaterThan(0);
    expect(verify).toMatchObject({ archives: [{ location: archive, bytes: archiveBytes }] });
    expect(restored).toMatchObject({ archives: [{ location: archive }], components: { redis: { seconds: expect.any(Number), ok: true } } });
    expect(failed.error).toMatch(/^restore refused, nothing was changed — redis: cannot reach Redis at 127\.0\.0\.1:1 /);
    expect(pruned).toMatchObject({ archives: [{ location: archive, bytes: archiveBytes }] });

    const shown = await cli(['history', '--limit', '3']);
    expect(shown.code).toBe(0);
    const rows = shown.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^WHEN \(UTC\)\s+COMMAND\s+RESULT\s+ARCHIVE\s+SIZE\s+DURATION\s+ANOMALIES$/);
    // The failed run's reason is on the line below its row.
    expect(rows.filter((row) => /^\d{4}-/.test(row)).map((row) => row.split(/\s+/)[2])).toEqual(['restore', 'backup', 'prune']);
    expect(rows[1]).toContain('FAILED (exit 1)');
    expect(rows[2]).toMatch(/^ {4}restore refused, nothing was changed/);
    expect(rows[3]).toMatch(/^\S+ \S+\s+backup\s+ok\s+orkestra-backup-history-\d{8}-\d{6}\.tar\.gz\s+\d/);
    const json = JSON.parse((await cli(['history', '--json', '--limit', '2'])).stdout) as {
      history: string;
      records: { command: string }[];
    };
    expect(json.history).toBe(path);
    expect(json.records.map((record) => record.command)).toEqual(['backup', 'prune']);
    expect(JSON.parse((await cli(['history', '--json'])).stdout).records).toHaveLength(6);
  });
});

describe('history through the binary (no Docker)', () => {
  it('two backups started at once both append one whole line', async () => {
    const project = await makeProject();
    const runs = await Promise.all([0, 1].map(() => startCli(['backup', '-c', 'secrets', '-y'], { cwd: project, env: NO_DOCKER }).result));
    expect(runs.map((run) => run.code)).toEqual([0, 0]);
    const records = await historyLines(project);
    expect(records).toHaveLength(2);
    const locations = records.map((record) => (record.archives as { location: string }[])[0].location).sort();
    expect(locations).toEqual(runs.map((run) => run.stdout.trim()).sort());
  });

  it('an interrupted backup is recorded as a failure with the interrupt as its error', async () => {
    const project = await makeProject();
    // 160 MB of secrets: the backup is still writing when the signal comes.
    const big = await open(join(project, 'docker/keys/big.key'), 'w', 0o600);
    const block = Buffer.alloc(1024 * 1024, 7);
    for (let written = 0; written < 160; written += 1) await big.write(block);
    await big.close();
    const running = startCli(['backup', '-c', 'secrets', '-y'], { cwd: project, env: NO_DOCKER });
    await running.waitForStderr(/secrets: backing up/);
    running.signal('SIGINT');
    const result = await running.result;
    expect(result.code, result.stderr).toBe(1);
    const [record] = await historyLines(project);
    expect(record).toMatchObject({
      command: 'backup',
      result: 'failure',
      exitCode: 1,
      error: expect.stringMatching(/^interrupted by SIGINT/),
    });
    expect(record.archives).toBeUndefined();
  });

  it('history with no runs says so; a bad --limit is exit 2; the history of a folder is read from it', async () => {
    const project = await makeProject();
    const empty = await runCli(['history'], { cwd: project, env: NO_DOCKER });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe(`No runs recorded yet in ${join(project, 'backups', '.orkestra-backup-history.jsonl')}.\n`);
    for (const limit of ['0', '-3', 'ten', '2.5']) {
      const bad = await runCli(['history', `--limit=${limit}`], { cwd: project, env: NO_DOCKER });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--limit needs a whole number/);
    }
    expect((await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project, env: NO_DOCKER })).code).toBe(0);
    const elsewhere = await runCli(['history', join(project, 'backups'), '--json'], { cwd: '/', env: NO_DOCKER });
    expect(JSON.parse(elsewhere.stdout).records.map((record: { command: string }) => record.command)).toEqual(['backup']);
  });
});

describe('the record copy beside an s3:// archive (off-site server)', () => {
  let server: OffsiteServer;
  beforeAll(async () => {
    server = await startOffsiteServer(['offsite']);
  });
  afterAll(() => server?.stop());

  it('is stored as <archive>.history.json, read by another host with history s3://…, never listed as an archive, and pruned with its archive', async () => {
    const project = await makeProject();
    const env = { ...NO_DOCKER, ...offsiteEnv(server) };
    const backups = [];
    for (const _ of [0, 1]) {
      const backup = await runCli(['backup', '-c', 'secrets', '-y', '-o', 's3://offsite/nightly/'], { cwd: project, env });
      expect(backup.code, backup.stderr).toBe(0);
      backups.push(backup.stdout.trim());
    }
    const keys = async () =>
      (
        (
          await s3Client(server.endpoint, 'offsite-access', 'offsite-secret-never-printed').send(
            new ListObjectsV2Command({ Bucket: 'offsite', Prefix: 'nightly/' }),
          )
        ).Contents ?? []
      )
        .map((object) => `s3://offsite/${object.Key}`)
        .sort();
    expect(await keys()).toEqual(backups.flatMap((url) => [url, `${url}.history.json`]).sort());

    const otherHost = await makeProject({ env: null });
    const read = await runCli(['history', 's3://offsite/nightly/', '--json'], { cwd: otherHost, env });
    expect(read.code, read.stderr).toBe(0);
    const copies = JSON.parse(read.stdout) as { records: Record<string, unknown>[] };
    expect(copies.records.map((record) => (record.archives as { location: string }[])[0].location)).toEqual(backups);
    expect(copies.records[0]).toMatchObject({
      command: 'backup',
      result: 'success',
      components: { secrets: { bytes: expect.any(Number) } },
    });
    const table = await runCli(['history', 's3://offsite/nightly/', '--limit', '1'], { cwd: otherHost, env });
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(table.stdout).toContain(backups[1].split('/').pop());

    const listed = JSON.parse((await runCli(['list', 's3://offsite/nightly/', '--json'], { cwd: otherHost, env })).stdout);
    expect(listed.archives.map((archive: { file: string }) => archive.file).sort()).toEqual([...backups].sort());
    const prune = await runCli(['prune', 's3://offsite/nightly/', '--keep-last', '1'], { cwd: project, env });
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.stdout).toMatch(/Removed 1 of 2 archives/);
    expect(await keys()).toEqual([backups[1], `${backups[1]}.history.json`]);
  });

  it('a split backup stores its record beside both archives; history s3://… shows it once, with both', async () => {
    const project = await makeProject();
    await writeFile(
      join(project, 'orkestra-backup.json'),
      JSON.stringify({ components: { spool: { kind: 'directory', path: 'docker/spool' } } }),
    );
    await mkdir(join(project, 'docker/spool'));
    await writeFile(join(project, 'docker/spool/job.txt'), 'job 1\n');
    const env = { ...NO_DOCKER, ...offsiteEnv(server) };
    const backup = await runCli(['backup', '-c', 'secrets,spool', '-y', '--split-secrets', '-o', 's3://offsite/split/'], {
      cwd: project,
      env,
    });
    expect(backup.code, backup.stderr).toBe(0);
    const [data, secrets] = backup.stdout.trim().split('\n');
    const listed = await s3Client(server.endpoint, 'offsite-access', 'offsite-secret-never-printed').send(
      new ListObjectsV2Command({ Bucket: 'offsite', Prefix: 'split/' }),
    );
    const keys = (listed.Contents ?? []).map((object) => `s3://offsite/${object.Key}`).sort();
    expect(keys).toEqual([data, `${data}.history.json`, secrets, `${secrets}.history.json`].sort());
    const read = await runCli(['history', 's3://offsite/split/', '--json'], { cwd: await makeProject({ env: null }), env });
    const { records } = JSON.parse(read.stdout) as { records: { archives: { location: string; split: string }[] }[] };
    expect(records).toHaveLength(1);
    expect(records[0].archives).toMatchObject([
      { location: data, split: 'data' },
      { location: secrets, split: 'secrets' },
    ]);
  });
});
