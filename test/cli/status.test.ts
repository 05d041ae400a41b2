import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appendHistory, historyPath } from '../../src/core/history/historyFile.js';
import type { HistoryRecord } from '../../src/model/history.js';
import { manifestFor, writeRawArchive } from '../helpers/archives.js';
import { expectNoStackTrace, runCli } from '../helpers/cli.js';
import { ageKeyPair } from '../helpers/age.js';
import { hasRedisServer, startHostRedis, stopHostRedis } from '../helpers/hostRedis.js';
import { offsiteEnv, startOffsiteServer, type OffsiteServer } from '../helpers/offsite.js';
import { ENV_TEXT, makeProject, PRIVATE_KEY, PUBLIC_KEY } from '../helpers/project.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheusText.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

/** `status` through the binary, on real temporary projects; the history lines other commands will write are written here. */

/** The secrets component's bytes in a backup of makeProject's project: docker/.env and both keys. */
const SECRETS_BYTES = Buffer.byteLength(ENV_TEXT) + Buffer.byteLength(PRIVATE_KEY) + Buffer.byteLength(PUBLIC_KEY);

interface StatusJson {
  ok: boolean;
  exitCode: number;
  environment: string;
  maxAgeHours: number;
  destinations: { destination: string; where: string; soundArchives: number; error?: string }[];
  components: { name: string; newest: Record<string, { archive: string; ageSeconds: number; bytes?: number; backupSeconds?: number }> }[];
  lastDrill?: { ok: boolean; restoreSeconds: Record<string, number> };
  keyDrift: { state: string; keys?: { name: string; change: string }[] };
  openAnomalies: { archive: string; anomalies: { message: string }[] }[];
  reasons: string[];
}

async function status(project: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return runCli(['status', ...args], { cwd: project, env });
}

async function statusJson(project: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; json: StatusJson }> {
  const result = await status(project, ['--json'], env);
  return { code: result.code, json: JSON.parse(result.stdout) as StatusJson };
}

/** A fresh secrets backup of the project; its path. */
async function secretsBackup(project: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const result = await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project, env });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
}

function record(fields: Partial<HistoryRecord> & Pick<HistoryRecord, 'command'>): HistoryRecord {
  const now = new Date().toISOString();
  return { version: 1, startedAt: now, endedAt: now, result: 'success', exitCode: 0, environment: 'local', host: 'test-host', ...fields };
}

function history(project: string, fields: Partial<HistoryRecord> & Pick<HistoryRecord, 'command'>): Promise<void> {
  return appendHistory(historyPath(join(project, 'backups')), record(fields));
}

/** A sound v1 archive of secrets made `hoursAgo` hours ago, named as backup names them. */
async function oldSecretsArchive(project: string, hoursAgo: number): Promise<string> {
  const createdAt = new Date(Date.now() - hoursAgo * 3600_000);
  const stamp = createdAt.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const file = join(project, 'backups', `orkestra-backup-local-${stamp}.tar.gz`);
  const files = [{ path: 'secrets/.env', content: ENV_TEXT }];
  const manifest = manifestFor(files, { environment: 'local', createdAt: `${createdAt.toISOString().slice(0, 19)}Z` });
  await writeRawArchive(file, [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ...files]);
  return file;
}

describe('status: exit codes of a monitoring check', () => {
  it('no backup at all: exit 1, the reason on one line; --json says the same', async () => {
    const project = await makeProject();
    const result = await status(project);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`UNHEALTHY: no sound backup of environment local in ${join(project, 'backups')}\n`);
    const { code, json } = await statusJson(project);
    expect(code).toBe(1);
    expect(json).toMatchObject({
      ok: false,
      exitCode: 1,
      components: [],
      reasons: [`no sound backup of environment local in ${join(project, 'backups')}`],
    });
  });

  it('a backup just made: exit 0, its component, age, size and key fingerprints matching docker/.env; without Docker', async () => {
    const project = await makeProject();
    const archive = await secretsBackup(project);
    const env = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    const result = await status(project, [], env);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`secrets\\s+local\\s+${basename(archive).replace(/\./g, '\\.')}\\s+\\d+ s\\s+`));
    expect(result.stdout).toContain('Key drift: none;');
    expect(result.stdout).toContain('Healthy.');
    const { code, json } = await statusJson(project, env);
    expect(code).toBe(0);
    expect(json).toMatchObject({
      ok: true,
      exitCode: 0,
      environment: 'local',
      maxAgeHours: 26,
      destinations: [{ destination: 'local', where: join(project, 'backups'), soundArchives: 1 }],
      components: [{ name: 'secrets', newest: { local: { archive: basename(archive), bytes: SECRETS_BYTES } } }],
      keyDrift: { state: 'match', keys: [] },
      openAnomalies: [],
      reasons: [],
    });
    expect(json.components[0].newest.local.ageSeconds).toBeLessThan(600);
  });

  it('stale: the newest sound backup older than health.maxAgeHours exits 1 naming it; a larger maxAgeHours in orkestra-backup.json accepts it', async () => {
    const project = await makeProject();
    const archive = await oldSecretsArchive(project, 30);
    // A newer archive that is broken is no backup: the stale one is still the newest sound one.
    await writeFile(
      join(
        project,
        'backups',
        `orkestra-backup-local-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}.tar.gz`,
      ),
      'cut',
    );
    const stale = await status(project);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(
      new RegExp(
        `UNHEALTHY: secrets: the newest sound backup in the local folder \\(${basename(archive).replace(/\./g, '\\.')}\\) is 30\\.\\d h old, more than health\\.maxAgeHours \\(26\\)\n`,
      ),
    );
    expect(stale.stdout).toMatch(/secrets\s+local\s+\S+\s+30\.\d h STALE/);
    await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify({ health: { maxAgeHours: 48 } }));
    const accepted = await status(project);
    expect(accepted.code, accepted.stdout).toBe(0);
    expect(accepted.stdout).toContain('Key drift: unknown');
  });

  it('failed drill: the last drill of the history failed exits 1; a later passing drill makes it healthy again', async () => {
    const project = await makeProject();
    const archive = await secretsBackup(project);
    await history(project, {
      command: 'drill',
      result: 'failure',
      exitCode: 1,
      drillOk: false,
      archives: [{ location: archive }],
      components: { secrets: { seconds: 0.4, ok: false } },
    });
    const failed = await status(project);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(
      new RegExp(`UNHEALTHY: the last drill \\(of ${basename(archive).replace(/\./g, '\\.')}\\), at \\S+, failed\n`),
    );
    await history(project, {
      command: 'drill',
      drillOk: true,
      archives: [{ location: archive }],
      components: { secrets: { seconds: 0.25, ok: true } },
    });
    const passed = await statusJson(project);
    expect(passed.code).toBe(0);
    expect(passed.json.lastDrill).toMatchObject({ ok: true, restoreSeconds: { secrets: 0.25 } });
  });

  it('open anomaly: the newest backup anomalies exit 1 one line each; orkestra-backup accept of the archive closes them', async () => {
    const project = await makeProject();
    const archive = await secretsBackup(project);
    const anomalies = [
      { component: 'secrets', kind: 'key-name-vanished', message: 'secrets: the key name ORKESTRA_KMS_MASTER_KEY vanished' },
      { kind: 'smaller-archive', message: 'the archive is 71 % smaller than its baseline' },
    ];
    await history(project, { command: 'backup', archives: [{ location: archive }], components: { secrets: { seconds: 0.1 } }, anomalies });
    const open = await status(project);
    expect(open.code).toBe(1);
    expect(open.stdout).toContain(
      `UNHEALTHY: open anomaly in ${basename(archive)}: secrets: the key name ORKESTRA_KMS_MASTER_KEY vanished\n`,
    );
    expect(open.stdout).toContain(`UNHEALTHY: open anomaly in ${basename(archive)}: the archive is 71 % smaller than its baseline\n`);
    const accepted = await runCli(['accept', archive], { cwd: project });
    expect(accepted.code, accepted.stderr).toBe(0);
    expect((await status(project)).code).toBe(0);
  });

  it('key drift: a key of docker/.env changed since the newest backup is named (never its value), exit 0', async () => {
    const project = await makeProject();
    await secretsBackup(project);
    await writeFile(join(project, 'docker/.env'), ENV_TEXT.replace('k3y-material', 'rotated-key-value'));
    const result = await status(project);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /Key drift: docker\/\.env's encryption keys differ from those of \S+: OAUTH_TOKEN_ENCRYPTION_KEY \(differs\)/,
    );
    expect(result.stdout).not.toContain('rotated-key-value');
    expect((await statusJson(project)).json.keyDrift).toMatchObject({
      state: 'drift',
      keys: [{ name: 'OAUTH_TOKEN_ENCRYPTION_KEY', change: 'differs' }],
    });
  });

  it('an encrypted archive no key given opens counts on its record (sizes and key drift unknown); with the identity its manifest is read', async () => {
    const project = await makeProject();
    const { identityFile, recipient } = await ageKeyPair(project);
    const backup = await runCli(['backup', '-c', 'secrets', '-y', '-r', recipient], { cwd: project });
    expect(backup.code, backup.stderr).toBe(0);
    const name = basename(backup.stdout.trim());
    const locked = await statusJson(project);
    expect(locked.code).toBe(0);
    expect(locked.json.components).toEqual([
      { name: 'secrets', newest: { local: expect.objectContaining({ archive: name, vouchedBy: 'record' }) } },
    ]);
    expect(locked.json.components[0].newest.local.bytes).toBeUndefined();
    expect(locked.json.keyDrift).toEqual({ state: 'unknown', archive: name, reason: `${name} is encrypted and no key given opens it` });
    expect((await status(project)).stdout).toContain(`${name} (encrypted, by its record)`);
    const opened = await statusJson(project, { ORKESTRA_BACKUP_IDENTITY: identityFile });
    expect(opened.json.components[0].newest.local).toMatchObject({ archive: name, vouchedBy: 'manifest', bytes: SECRETS_BYTES });
    expect(opened.json.keyDrift).toMatchObject({ state: 'match' });
    // Its record gone, nothing vouches for it: no sound backup.
    await rm(join(project, 'backups', `${name}.record.json`));
    expect((await statusJson(project)).json.reasons).toEqual([`no sound backup of environment local in ${join(project, 'backups')}`]);
  });

  it('bad input exits 2 with one line and nothing written: an argument, a bad health setting, a bad ORKESTRA_OFFSITE', async () => {
    const project = await makeProject();
    const extra = await status(project, ['now']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('unexpected argument "now"');
    await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify({ health: { maxAgeHours: -1 } }));
    const config = await status(project);
    expect(config.code).toBe(2);
    expect(config.stderr).toMatch(/orkestra-backup\.json: health\.maxAgeHours: /);
    expectNoStackTrace(config.stderr);
    await writeFile(join(project, 'orkestra-backup.json'), '{}');
    const offsite = await status(project, [], { ORKESTRA_OFFSITE: 's3://x/' });
    expect(offsite.code).toBe(2);
    expect(offsite.stderr).toContain('not a valid S3 bucket name');
  });
});

describe('status --metrics: the Prometheus textfile', () => {
  afterEach(() => stopHostRedis());

  it.skipIf(!hasRedisServer)(
    'read by a Prometheus text-format parser: last success, age, size and backup duration per component, drill result and restore seconds, anomalies',
    async () => {
      const redis = await startHostRedis();
      redis.cli('SET', 'greeting', 'hello');
      const project = await makeProject({ env: `${ENV_TEXT}REDIS_URL=redis://127.0.0.1:${redis.port}\n` });
      const backup = await runCli(['backup', '-c', 'redis,secrets', '-y'], { cwd: project });
      expect(backup.code, backup.stderr).toBe(0);
      const archive = backup.stdout.trim();
      await history(project, {
        command: 'backup',
        archives: [{ location: archive }],
        components: { redis: { seconds: 1.5 }, secrets: { seconds: 0.02 } },
      });
      await history(project, {
        command: 'drill',
        drillOk: true,
        archives: [{ location: archive }],
        components: { redis: { seconds: 2.75 }, secrets: { seconds: 0.5 } },
      });
      const folder = await temporaryFolder('okb-textfile-');
      const metrics = join(folder, 'orkestra-backup.prom');
      const result = await status(project, ['--metrics', metrics]);
      expect(result.code, result.stdout).toBe(0);

      const text = await readFile(metrics, 'utf8');
      const families = parsePrometheusText(text);
      const names = families.map((family) => family.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'orkestra_backup_healthy',
          'orkestra_backup_last_success_timestamp_seconds',
          'orkestra_backup_age_seconds',
          'orkestra_backup_size_bytes',
          'orkestra_backup_duration_seconds',
          'orkestra_backup_last_drill_success',
          'orkestra_backup_drill_restore_seconds',
          'orkestra_backup_anomalies',
        ]),
      );
      for (const family of families) {
        expect(family.type, family.name).toBe('GAUGE');
        expect(family.help, family.name).not.toBe('');
        expect(family.name).toMatch(/^orkestra_backup_[a-z_]+$/);
      }
      const redisLabels = { environment: 'local', component: 'redis', destination: 'local' };
      const createdAt = (
        JSON.parse((await runCli(['inspect', archive, '--json'], { cwd: project })).stdout) as { manifest: { createdAt: string } }
      ).manifest.createdAt;
      expect(sampleValue(families, 'orkestra_backup_last_success_timestamp_seconds', redisLabels)).toBe(Date.parse(createdAt) / 1000);
      expect(sampleValue(families, 'orkestra_backup_age_seconds', redisLabels)).toBeLessThan(600);
      expect(sampleValue(families, 'orkestra_backup_size_bytes', redisLabels)).toBeGreaterThan(0);
      expect(sampleValue(families, 'orkestra_backup_size_bytes', { component: 'secrets' })).toBe(
        Buffer.byteLength(`${ENV_TEXT}REDIS_URL=redis://127.0.0.1:${redis.port}\n`) +
          Buffer.byteLength(PRIVATE_KEY) +
          Buffer.byteLength(PUBLIC_KEY),
      );
      expect(sampleValue(families, 'orkestra_backup_duration_seconds', redisLabels)).toBe(1.5);
      expect(sampleValue(families, 'orkestra_backup_last_drill_success')).toBe(1);
      expect(sampleValue(families, 'orkestra_backup_drill_restore_seconds', { component: 'redis' })).toBe(2.75);
      expect(sampleValue(families, 'orkestra_backup_anomalies')).toBe(0);
      expect(sampleValue(families, 'orkestra_backup_healthy')).toBe(1);
      expect(text).not.toContain('REDIS_URL');
      expect(text).not.toContain('hunter2-secret');
      // Written beside, then renamed: nothing else is left in the collector's folder; readable by the collector.
      expect(await readdir(folder)).toEqual(['orkestra-backup.prom']);
      expect((await stat(metrics)).mode & 0o777).toBe(0o644);
    },
  );

  it('an unhealthy status still writes its metrics: healthy 0, the failed drill 0, the open anomalies counted; the file replaced whole', async () => {
    const project = await makeProject();
    const archive = await secretsBackup(project);
    const folder = await temporaryFolder('okb-textfile-');
    const metrics = join(folder, 'backup.prom');
    await writeFile(metrics, 'stale content of a previous run\n');
    await history(project, {
      command: 'backup',
      archives: [{ location: archive }],
      components: { secrets: { seconds: 0.1 } },
      anomalies: [{ kind: 'empty', component: 'secrets', message: 'secrets: became empty' }],
    });
    await history(project, { command: 'drill', result: 'failure', exitCode: 1, drillOk: false, archives: [{ location: archive }] });
    const result = await status(project, ['--metrics', metrics]);
    expect(result.code).toBe(1);
    const text = await readFile(metrics, 'utf8');
    expect(text).not.toContain('stale content');
    const families = parsePrometheusText(text);
    expect(sampleValue(families, 'orkestra_backup_healthy')).toBe(0);
    expect(sampleValue(families, 'orkestra_backup_last_drill_success')).toBe(0);
    expect(sampleValue(families, 'orkestra_backup_anomalies')).toBe(1);
    expect(sampleValue(families, 'orkestra_backup_duration_seconds', { component: 'secrets' })).toBe(0.1);
    expect(await readdir(folder)).toEqual(['backup.prom']);
  });

  it('a metrics folder that cannot be written: exit 2 with a clear line, nothing left behind, no status taken', async () => {
    const project = await makeProject();
    const missing = await status(project, ['--metrics', join(project, 'no-such-folder', 'x.prom')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`the folder ${join(project, 'no-such-folder')} does not exist`);
    expect(missing.stdout).toBe('');
    // Root writes through any mode bits: /proc takes no new file from anyone.
    const locked = join(project, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o555);
    const folder = process.getuid?.() === 0 ? '/proc' : locked;
    const refused = await status(project, ['--metrics', join(folder, 'orkestra-backup.prom')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `orkestra-backup: --metrics ${join(folder, 'orkestra-backup.prom')}: the folder ${folder} takes no new file (${folder === '/proc' ? 'no such file or folder' : 'permission denied'}). ` +
        "Give a file in a folder this user can write, such as node_exporter's --collector.textfile.directory.\n",
    );
    expect(refused.stdout).toBe('');
    expectNoStackTrace(refused.stderr);
    expect((await readdir(folder)).filter((name) => name.includes('orkestra-backup.prom'))).toEqual([]);
  });
});

describe('status with ORKESTRA_OFFSITE', () => {
  let server: OffsiteServer;
  beforeAll(async () => {
    server = await startOffsiteServer(['offsite']);
  });
  afterAll(() => server?.stop());

  it('the newest sound backup of each destination, off-site beside local; an off-site store that cannot be reached exits 1 naming it', async () => {
    const project = await makeProject();
    const env = { ...offsiteEnv(server), ORKESTRA_OFFSITE: 's3://offsite/status/', ORKESTRA_S3_RETRY_PAUSES: '0.1' };
    const local = await secretsBackup(project, env);
    const onlyLocal = await statusJson(project, env);
    expect(onlyLocal.code).toBe(1);
    expect(onlyLocal.json.reasons).toEqual(['no sound backup of environment local in off-site s3://offsite/status/']);
    const up = await runCli(['backup', '-c', 'secrets', '-y', '-o', 's3://offsite/status/'], { cwd: project, env });
    expect(up.code, up.stderr).toBe(0);
    const both = await statusJson(project, env);
    expect(both.code, JSON.stringify(both.json.reasons)).toBe(0);
    expect(both.json.components).toEqual([
      {
        name: 'secrets',
        newest: {
          local: expect.objectContaining({ archive: basename(local), location: local }),
          offsite: expect.objectContaining({ archive: basename(up.stdout.trim()), location: up.stdout.trim(), bytes: SECRETS_BYTES }),
        },
      },
    ]);
    const table = await status(project, [], env);
    expect(table.stdout).toMatch(/secrets\s+offsite\s+orkestra-backup-local-/);

    const away = await statusJson(project, { ...env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' });
    expect(away.code).toBe(1);
    expect(away.json.reasons).toEqual([expect.stringMatching(/^off-site s3:\/\/offsite\/status\/ cannot be read: /)]);
    expect(away.json.components[0].newest.local.archive).toBe(basename(local));
  });
});
