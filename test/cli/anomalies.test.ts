import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/archive/reader.js';
import { runCli } from '../helpers/cli.js';
import { recordedBackup, historyFile, type BackupJson } from '../helpers/history.js';
import { hasRedisServer, startHostRedis, stopHostRedis, type HostRedis } from '../helpers/hostRedis.js';
import { makeProject } from '../helpers/project.js';
import { startWebhookReceiver } from '../helpers/webhookReceiver.js';

/**
 * Anomaly checks at backup, through Redis reached with REDIS_URL (redis-server on the host): the
 * shape of each backup (keys per database) compared with the newest good backup in the history.
 */
afterAll(stopHostRedis);

const ENV = { DOCKER_HOST: 'unix:///nonexistent.sock' };

async function redisProject(): Promise<{ project: string; redis: HostRedis }> {
  const redis = await startHostRedis('anomaly-pw');
  const project = await makeProject({ env: `REDIS_URL=redis://:anomaly-pw@127.0.0.1:${redis.port}\n`, keys: false });
  return { project, redis };
}

/** `count` keys named `<prefix>:<n>` in database `db`. */
function fill(redis: HostRedis, count: number, prefix = 'k', db = 0): void {
  redis.cli('-n', String(db), 'EVAL', `for i = 1, ${count} do redis.call('SET', '${prefix}:' .. i, i) end`, '0');
}

/** Deletes `<prefix>:<from>` to `<prefix>:<from + count - 1>`. */
function remove(redis: HostRedis, count: number, prefix = 'k', db = 0, from = 1): void {
  redis.cli('-n', String(db), 'EVAL', `for i = ${from}, ${from + count - 1} do redis.call('DEL', '${prefix}:' .. i) end`, '0');
}

/** One `backup -c redis --json` run, its record in the history. */
async function backup(project: string, extra: string[] = []) {
  const run = await runCli(['backup', '-c', 'redis', '-y', '--json', ...extra], { cwd: project, env: ENV });
  expect(run.stderr).not.toContain('FAILED');
  const json = JSON.parse(run.stdout) as BackupJson;
  // The history holds the record the next backup's baseline is chosen from, with these anomalies.
  expect((await recordedBackup(project, json)).anomalies ?? []).toEqual(json.anomalies);
  return { ...run, json };
}

describe.skipIf(!hasRedisServer)('anomaly checks at backup (redis-server on the host, REDIS_URL)', () => {
  it('a Redis database that lost 80 % of its keys is an anomaly: said in the summary and --json, exit 0; normal growth raises none', async () => {
    const { project, redis } = await redisProject();
    fill(redis, 100);
    fill(redis, 10, 'other', 3);
    const first = await backup(project);
    expect(first.code).toBe(0);
    expect(first.json.anomalies).toEqual([]);
    expect(first.stderr).toContain('No earlier good backup of these components to compare with');
    const manifest = (await readManifest(first.json.archive)).manifest;
    expect(manifest.shape?.components.redis).toEqual({
      items: 'keys',
      group: 'database',
      groups: { '0': { items: 100 }, '3': { items: 10 } },
    });

    fill(redis, 150); // growth
    const grown = await backup(project);
    expect(grown.code).toBe(0);
    expect(grown.json.anomalies).toEqual([]);
    expect(grown.json.baseline).toBe(first.json.archive);
    expect(grown.stderr).toContain(`No anomaly (compared with ${first.json.archive})`);

    remove(redis, 120);
    const shrunk = await backup(project);
    expect(shrunk.code).toBe(0);
    expect(shrunk.json.ok).toBe(true);
    expect(shrunk.json.baseline).toBe(grown.json.archive);
    expect(shrunk.json.anomalies).toEqual([
      { component: 'redis', kind: 'shrunk', message: 'redis: database 0 lost 80 % of its keys (150 → 30)' },
    ]);
    expect(shrunk.stderr).toContain('ANOMALY: 1 difference from the baseline');
    expect(shrunk.stderr).toContain('  redis: database 0 lost 80 % of its keys (150 → 30)');
  });

  it('an anomaly is posted to --notify as an anomaly message; with --accept-anomaly nothing is posted', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { project, redis } = await redisProject();
      fill(redis, 100);
      await backup(project);
      remove(redis, 70);
      const shrunk = await backup(project, ['--notify', `${receiver.origin}/hook`]);
      expect(shrunk.json.anomalies).toHaveLength(1);
      expect(receiver.requests).toHaveLength(1);
      const message = JSON.parse(receiver.requests[0].body) as { event: string; anomalies: string[]; text: string };
      expect(message.event).toBe('anomaly');
      expect(message.anomalies).toEqual(['redis: database 0 lost 70 % of its keys (100 → 30)']);
      expect(message.text).toContain('lost 70 %');
      expect(message.text).not.toContain('anomaly-pw');
      remove(redis, 20, 'k', 0, 71);
      const accepted = await backup(project, ['--accept-anomaly', '--notify', `${receiver.origin}/hook`]);
      expect(accepted.json.anomalies).toHaveLength(1);
      expect(receiver.requests).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  it('with no history, the baseline is the newest sound archive of the destination folder', async () => {
    const { project, redis } = await redisProject();
    fill(redis, 100);
    const first = await runCli(['backup', '-c', 'redis', '-y', '--json'], { cwd: project, env: ENV });
    await rm(historyFile(project), { force: true });
    remove(redis, 60);
    const second = await runCli(['backup', '-c', 'redis', '-y', '--json'], { cwd: project, env: ENV });
    const json = JSON.parse(second.stdout) as BackupJson;
    expect(json.baseline).toBe((JSON.parse(first.stdout) as BackupJson).archive);
    expect(json.anomalies.map((anomaly) => anomaly.message)).toEqual(['redis: database 0 lost 60 % of its keys (100 → 40)']);
  });

  it('--fail-on-anomaly exits 1 and keeps the archive; the next night is still compared with the last good backup, so a slow loss is caught', async () => {
    const { project, redis } = await redisProject();
    fill(redis, 100);
    const good = await backup(project);
    remove(redis, 60);
    const bad = await backup(project, ['--fail-on-anomaly']);
    expect(bad.code).toBe(1);
    expect(bad.json.ok).toBe(false);
    expect(bad.json.anomalies.map((anomaly) => anomaly.message)).toEqual(['redis: database 0 lost 60 % of its keys (100 → 40)']);
    expect(bad.stderr).toContain(`--fail-on-anomaly: the backup differs from its baseline; the archive is kept: ${bad.json.archive}`);
    expect(existsSync(bad.json.archive)).toBe(true);

    // The bad night is not the new normal: the next backup is compared with the good one again.
    const next = await backup(project, ['--fail-on-anomaly']);
    expect(next.code).toBe(1);
    expect(next.json.baseline).toBe(good.json.archive);
    expect(next.json.anomalies.map((anomaly) => anomaly.kind)).toEqual(['shrunk']);
  });

  it('accept <archive> makes it the baseline (and says what it accepted); --accept-anomaly accepts the backup being made', async () => {
    const { project, redis } = await redisProject();
    fill(redis, 100);
    fill(redis, 5, 'gone', 2);
    await backup(project);
    remove(redis, 70);
    remove(redis, 5, 'gone', 2);
    const cleaned = await backup(project);
    expect(cleaned.json.anomalies.map((anomaly) => anomaly.message)).toEqual([
      'redis: database 0 lost 70 % of its keys (100 → 30)',
      'redis: database 2 is gone (had 5 keys)',
    ]);

    const accept = await runCli(['accept', cleaned.json.archive], { cwd: project, env: ENV });
    expect(accept.stderr).toBe('');
    expect(accept.code).toBe(0);
    expect(accept.stdout).toContain(
      `Accepted ${cleaned.json.archive} (environment local, made ${cleaned.json.createdAt}, 1 component: redis).`,
    );
    expect(accept.stdout).toContain('The next backup of local is compared with it.');
    const records = (await readFile(historyFile(project), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.at(-1)).toMatchObject({
      command: 'accept',
      result: 'success',
      accepted: true,
      archives: [{ location: cleaned.json.archive, backupId: cleaned.json.backupId }],
    });

    const after = await backup(project);
    expect(after.json.anomalies).toEqual([]);
    expect(after.json.baseline).toBe(cleaned.json.archive);

    remove(redis, 20, 'k', 0, 71); // 30 → 10
    const intended = await backup(project, ['--accept-anomaly', '--fail-on-anomaly']);
    expect(intended.code).toBe(0);
    expect(intended.json.accepted).toBe(true);
    expect(intended.json.anomalies.map((anomaly) => anomaly.kind)).toEqual(['shrunk']);
    expect(intended.stderr).toContain('accepted (--accept-anomaly): this backup is the new baseline');
    const following = await backup(project);
    expect(following.json.baseline).toBe(intended.json.archive);
    expect(following.json.anomalies).toEqual([]);
  });

  it('accept refuses what is not a sound archive, exit 2, and records nothing', async () => {
    const project = await makeProject({ keys: false });
    const missing = await runCli(['accept'], { cwd: project, env: ENV });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('accept needs the path of an archive');
    const fake = join(project, 'orkestra-backup-local-20261201-020000.tar.gz');
    await writeFile(fake, 'not an archive');
    const refused = await runCli(['accept', fake], { cwd: project, env: ENV });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(basename(fake));
    expect(existsSync(historyFile(project))).toBe(false);
    const help = await runCli(['help', 'accept'], { cwd: project, env: ENV });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: orkestra-backup accept <file|s3://bucket/key>');
    const backupHelp = await runCli(['backup', '--help'], { cwd: project, env: ENV });
    expect(backupHelp.stdout).toContain('--fail-on-anomaly');
    expect(backupHelp.stdout).toContain('--accept-anomaly');
  });

  it('prune keeps the newest sound archive without anomaly against --keep-last 1, and says so; with --prune after an anomalous backup too', async () => {
    const { project, redis } = await redisProject();
    fill(redis, 100);
    const good = await backup(project);
    remove(redis, 60);
    const bad1 = await backup(project);
    const bad2 = await backup(project);
    expect([bad1.json.anomalies.length, bad2.json.anomalies.length]).toEqual([1, 1]);

    const dryRun = await runCli(['prune', 'backups', '--keep-last', '1', '--dry-run'], { cwd: project, env: ENV });
    expect(dryRun.code).toBe(0);
    const lines = dryRun.stdout.split('\n');
    expect(lines).toContain(`${basename(good.json.archive)}  keep    (newest sound archive without anomaly)`);
    expect(lines).toContain(`${basename(bad1.json.archive)}  remove`);
    expect(lines).toContain(`${basename(bad2.json.archive)}  keep    (newest sound archive, last)`);

    const bad3 = await backup(project, ['--prune', 'last=1']);
    expect(bad3.json.anomalies.length).toBe(1);
    expect(bad3.stderr).toContain(`Kept ${basename(good.json.archive)} whatever the rules: newest sound archive without anomaly.`);
    expect(existsSync(good.json.archive)).toBe(true);
    expect(existsSync(bad3.json.archive)).toBe(true);
    expect([bad1, bad2].map((run) => existsSync(run.json.archive))).toEqual([false, false]);
  });

  it("prune of a folder other than backups/ reads the project's history: the good archive is kept, not the anomalous one alone", async () => {
    const { project, redis } = await redisProject();
    const folder = join(project, 'elsewhere');
    await mkdir(folder);
    const out = (time: string) => ['-o', join(folder, `orkestra-backup-local-20260101-${time}.tar.gz`)];
    fill(redis, 100);
    const good = await backup(project, out('010000'));
    remove(redis, 60);
    const bad = await backup(project, out('020000'));
    expect(bad.json.anomalies.length).toBe(1);

    const dryRun = await runCli(['prune', folder, '--keep-last', '1', '--dry-run'], { cwd: project, env: ENV });
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout.split('\n')).toContain(`${basename(good.json.archive)}  keep    (newest sound archive without anomaly)`);
  });

  it('the health thresholds of orkestra-backup.json are honoured; a bad value exits 2 naming its path', async () => {
    const { project, redis } = await redisProject();
    fill(redis, 100);
    await backup(project);
    remove(redis, 30);
    expect((await backup(project)).json.anomalies).toEqual([]);
    // The backup of 70 keys had no anomaly: it is the baseline now.
    await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify({ health: { shrinkThreshold: 0.2 } }));
    remove(redis, 20, 'k', 0, 31); // 70 → 50
    const strict = await backup(project);
    expect(strict.json.anomalies.map((anomaly) => anomaly.message)).toEqual(['redis: database 0 lost 29 % of its keys (70 → 50)']);

    await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify({ health: { shrinkThreshold: 1.5 } }));
    const bad = await runCli(['backup', '-c', 'redis', '-y'], { cwd: project, env: ENV });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('orkestra-backup.json: health.shrinkThreshold:');
    expect(bad.stdout).toBe('');
  });
});

describe('anomaly checks of the secret files', () => {
  it('a secret file that vanished and an encryption key no longer set are anomalies; a new file is not', async () => {
    const project = await makeProject();
    const secretsBackup = async () => {
      const run = await runCli(['backup', '-c', 'secrets', '-y', '--json'], { cwd: project, env: ENV });
      expect(run.code).toBe(0);
      const json = JSON.parse(run.stdout) as BackupJson;
      await recordedBackup(project, json);
      return json;
    };
    await secretsBackup();
    await writeFile(join(project, 'docker/keys/new.pem'), 'new key\n', { mode: 0o600 });
    expect((await secretsBackup()).anomalies).toEqual([]);
    await rm(join(project, 'docker/keys/jwt-public.pem'));
    const env = await readFile(join(project, 'docker/.env'), 'utf8');
    await writeFile(join(project, 'docker/.env'), env.replace(/^OAUTH_TOKEN_ENCRYPTION_KEY=.*\n/m, ''), { mode: 0o600 });
    expect((await secretsBackup()).anomalies).toEqual([
      { component: 'secrets', kind: 'vanished', message: 'secrets: keys/jwt-public.pem is gone' },
      { kind: 'key-name-vanished', message: 'key OAUTH_TOKEN_ENCRYPTION_KEY is no longer set (its fingerprint is gone)' },
    ]);
  });
});

describe('anomaly checks of a declared directory component', () => {
  it('a folder that lost 60 % of its files is an anomaly; a folder no longer matched is gone', async () => {
    const project = await makeProject({ keys: false });
    const config = { components: { spool: { kind: 'directory', path: 'data/spool-*' } } };
    await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify(config));
    for (const folder of ['spool-a', 'spool-b']) {
      await mkdir(join(project, 'data', folder), { recursive: true });
      for (let n = 0; n < 10; n += 1) await writeFile(join(project, 'data', folder, `f${n}`), `${folder} ${n}\n`);
    }
    const spoolBackup = async () => {
      const run = await runCli(['backup', '-c', 'spool', '-y', '--json'], { cwd: project, env: ENV });
      expect(run.code).toBe(0);
      const json = JSON.parse(run.stdout) as BackupJson;
      await recordedBackup(project, json);
      return json;
    };
    await spoolBackup();
    for (let n = 0; n < 6; n += 1) await rm(join(project, 'data/spool-a', `f${n}`));
    await rm(join(project, 'data/spool-b'), { recursive: true });
    await mkdir(join(project, 'data/spool-c'));
    await writeFile(join(project, 'data/spool-c/x'), 'x\n');
    expect((await spoolBackup()).anomalies.map((anomaly) => anomaly.message)).toEqual([
      'spool: folder data/spool-a lost 60 % of its files (10 → 4)',
      'spool: folder data/spool-b is gone (had 10 files)',
    ]);
  });

  it('a split backup (--split-secrets) is compared half by half: the data folder and the secret files', async () => {
    const project = await makeProject();
    await writeFile(
      join(project, 'orkestra-backup.json'),
      JSON.stringify({ components: { spool: { kind: 'directory', path: 'data/spool' } } }),
    );
    await mkdir(join(project, 'data/spool'), { recursive: true });
    for (let n = 0; n < 10; n += 1) await writeFile(join(project, 'data/spool', `f${n}`), `${n}\n`);
    const splitBackup = async () => {
      const run = await runCli(['backup', '-c', 'spool,secrets', '--split-secrets', '-y', '--json'], { cwd: project, env: ENV });
      expect(run.code).toBe(0);
      const json = JSON.parse(run.stdout) as BackupJson;
      await recordedBackup(project, json);
      return json;
    };
    const first = await splitBackup();
    for (let n = 0; n < 7; n += 1) await rm(join(project, 'data/spool', `f${n}`));
    await rm(join(project, 'docker/keys/jwt-private.pem'));
    const second = await splitBackup();
    expect(second.baseline).toBe(first.archive);
    expect(second.anomalies.map((anomaly) => anomaly.message)).toEqual([
      'spool: folder data/spool lost 70 % of its files (10 → 3)',
      'secrets: keys/jwt-private.pem is gone',
    ]);
  });
});
