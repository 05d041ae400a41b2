import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINARY, runCli, startCli } from '../helpers/cli.js';
import { ageKeyPair } from '../helpers/age.js';
import { offsiteEnv, startOffsiteServer, type OffsiteServer } from '../helpers/offsite.js';
import { ENV_TEXT, makeProject } from '../helpers/project.js';
import { s3Client } from '../helpers/s3.js';
import { freePort } from '../engine/stack.js';
import { namesBesideHistory } from '../helpers/history.js';

const run = promisify(execFile);
/** Retries quickly: the tests of an unreachable store wait for the retries, not for minutes. */
const QUICK_RETRIES = { ORKESTRA_S3_RETRY_PAUSES: '0.2,0.2' };

describe('backup to s3:// and back, on the off-site server (fauxqs: implements multipart abort)', () => {
  let server: OffsiteServer;
  beforeAll(async () => {
    server = await startOffsiteServer(['offsite', 'other']);
  });
  afterAll(() => server?.stop());

  it('secrets are never put into a bucket unencrypted unless --allow-plaintext-secrets; encrypted, they go up and are read back with --identity', async () => {
    const project = await makeProject();
    const { ORKESTRA_ALLOW_PLAINTEXT_SECRETS: _allowed, ...env } = offsiteEnv(server);
    void _allowed;
    const refused = await runCli(['backup', '-c', 'secrets', '-y', '-o', 's3://offsite/guarded/'], { cwd: project, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /would put the secrets \(docker\/\.env, docker\/keys\) into a bucket unencrypted.*--allow-plaintext-secrets/,
    );
    expect(JSON.parse((await runCli(['list', 's3://offsite/guarded/', '--json'], { cwd: project, env })).stdout).archives).toEqual([]);
    const allowed = await runCli(['backup', '-c', 'secrets', '-y', '-o', 's3://offsite/guarded/', '--allow-plaintext-secrets'], {
      cwd: project,
      env,
    });
    expect(allowed.code).toBe(0);
    const { identityFile, recipient } = await ageKeyPair(project);
    const sealed = await runCli(['backup', '-c', 'secrets', '-y', '-o', 's3://offsite/sealed/', '-r', recipient], { cwd: project, env });
    expect(sealed.code, sealed.stderr).toBe(0);
    const url = sealed.stdout.trim();
    expect(url).toMatch(/\.tar\.gz\.age$/);
    const object = await s3Client(server.endpoint, 'offsite-access', 'offsite-secret-never-printed').send(
      new GetObjectCommand({ Bucket: 'offsite', Key: url.slice('s3://offsite/'.length) }),
    );
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    expect(bytes.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
    expect(bytes.includes('hunter2-secret')).toBe(false);
    const locked = JSON.parse((await runCli(['list', 's3://offsite/sealed/', '--json'], { cwd: project, env })).stdout);
    expect(locked.archives[0]).toMatchObject({ sound: true, encrypted: true, locked: expect.stringContaining('encrypted') });
    const verified = await runCli(['verify', url, '-i', identityFile], { cwd: project, env });
    expect(verified.stdout).toContain('Result: sound.');
    expect(verified.code).toBe(0);
  });

  it('a backup into s3://bucket/prefix/ is listed, verified and restored from there, never through a local file', async () => {
    const project = await makeProject();
    const env = offsiteEnv(server);
    const backup = await runCli(['backup', '-c', 'secrets', '-y', '-o', 's3://offsite/nightly/'], { cwd: project, env });
    expect(backup.code).toBe(0);
    const url = backup.stdout.trim();
    expect(url).toMatch(/^s3:\/\/offsite\/nightly\/orkestra-backup-local-\d{8}-\d{6}\.tar\.gz$/);
    // The history is the project's, wherever the archive went; no archive is written locally.
    expect(await namesBesideHistory(join(project, 'backups')).catch(() => [])).toEqual([]);
    expect(backup.stderr).not.toContain('offsite-secret-never-printed');
    expect(await server.openUploads()).toEqual([]);

    const list = await runCli(['list', 's3://offsite/nightly/', '--json'], { cwd: project, env });
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout) as { folder: string; archives: Record<string, unknown>[] };
    expect(listed.folder).toBe('s3://offsite/nightly/');
    expect(listed.archives).toHaveLength(1);
    expect(listed.archives[0]).toMatchObject({ file: url, environment: 'local', components: ['secrets'], sound: true });
    expect(Object.keys(listed.archives[0]).sort()).toEqual(
      ['name', 'file', 'bytes', 'environment', 'createdAt', 'components', 'sound', 'encrypted'].sort(),
    );

    const verify = await runCli(['verify', url], { cwd: project, env });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('Result: sound.');

    // A copy cut short by 40 bytes reads its manifest fine; its size gives it away.
    const client = s3Client(server.endpoint, 'a', 'b');
    const whole = Buffer.from(
      await (
        await client.send(new GetObjectCommand({ Bucket: 'offsite', Key: url.slice('s3://offsite/'.length) }))
      ).Body!.transformToByteArray(),
    );
    await client.send(
      new PutObjectCommand({
        Bucket: 'offsite',
        Key: 'nightly/orkestra-backup-local-20260101-000000.tar.gz',
        Body: whole.subarray(0, -40),
      }),
    );
    client.destroy();
    const withCut = JSON.parse((await runCli(['list', 's3://offsite/nightly/', '--json'], { cwd: project, env })).stdout) as {
      archives: { name: string; sound: boolean; problem?: string }[];
    };
    expect(withCut.archives.find((archive) => archive.name === 'orkestra-backup-local-20260101-000000.tar.gz')).toMatchObject({
      sound: false,
      problem: expect.stringContaining('does not match its manifest') as unknown,
    });

    await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
    const restore = await runCli(['restore', url, '-y'], { cwd: project, env });
    expect(restore.code).toBe(0);
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe(ENV_TEXT);
  });

  it('a restore from s3:// that stops reading before the archive ends (its first component only) exits when done, not when the read times out', async () => {
    const project = await makeProject();
    await writeFile(
      join(project, 'orkestra-backup.json'),
      JSON.stringify({ components: { spool: { kind: 'directory', path: 'docker/spool' } } }),
    );
    await mkdir(join(project, 'docker/spool'));
    await writeFile(join(project, 'docker/spool/queue.bin'), randomBytes(1536 * 1024));
    // A read left open would keep the process alive until this limit: far past the run's own timeout.
    const env = { ...offsiteEnv(server), ORKESTRA_S3_TIMEOUT_SECONDS: '600' };
    const backup = await runCli(['backup', '-c', 'spool,secrets', '-y', '-o', 's3://offsite/early-stop/'], { cwd: project, env });
    expect(backup.code, backup.stderr).toBe(0);
    await writeFile(join(project, 'docker/spool/queue.bin'), 'changed');
    const restore = await runCli(['restore', backup.stdout.trim(), '-c', 'spool', '-y'], { cwd: project, env, timeoutMs: 60_000 });
    expect(restore.code, restore.stderr).toBe(0);
    expect((await readFile(join(project, 'docker/spool/queue.bin'))).length).toBe(1536 * 1024);
  });

  it('backup --prune to an s3:// folder keeps what the policy keeps there, after the backup succeeded', async () => {
    const project = await makeProject();
    const env = offsiteEnv(server);
    // Exact keys in the naming scheme, so the second is the newer one even within the same second.
    const backupTo = (stamp: string) =>
      runCli(['backup', '-c', 'secrets', '-y', '-o', `s3://offsite/rotated/orkestra-backup-local-${stamp}.tar.gz`, '--prune', 'last=1'], {
        cwd: project,
        env,
      });
    expect((await backupTo('20260101-000000')).code).toBe(0);
    const second = await backupTo('20260102-000000');
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('Pruned s3://offsite/rotated/: 1 removed, 1 kept.');
    const listed = JSON.parse((await runCli(['list', 's3://offsite/rotated/', '--json'], { cwd: project, env })).stdout) as {
      archives: { file: string }[];
    };
    expect(listed.archives.map((archive) => archive.file)).toEqual([second.stdout.trim()]);
  });

  it('a default name already held in the s3:// folder (another backup of the same second) gets -2, as on disk; nothing is overwritten', async () => {
    const project = await makeProject();
    const env = offsiteEnv(server);
    const client = s3Client(server.endpoint, 'offsite-access', 'offsite-secret-never-printed');
    // Every default name of the coming minute is held, so the second the backup names its archive is taken.
    const stamp = (at: number) => new Date(at).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const held = Array.from({ length: 60 }, (_, second) => `same-second/orkestra-backup-local-${stamp(Date.now() + second * 1000)}.tar.gz`);
    for (const key of held) await client.send(new PutObjectCommand({ Bucket: 'offsite', Key: key, Body: 'held' }));
    const backup = await runCli(['backup', '-c', 'secrets', '-y', '-o', 's3://offsite/same-second/'], { cwd: project, env });
    expect(backup.code, backup.stderr).toBe(0);
    const url = backup.stdout.trim();
    expect(url).toMatch(/^s3:\/\/offsite\/same-second\/orkestra-backup-local-\d{8}-\d{6}-2\.tar\.gz$/);
    expect(held).toContain(url.slice('s3://offsite/'.length).replace('-2.tar.gz', '.tar.gz'));
    for (const key of held.slice(0, 3)) {
      const object = await client.send(new GetObjectCommand({ Bucket: 'offsite', Key: key }));
      expect(await object.Body!.transformToString()).toBe('held');
    }
    expect((await runCli(['verify', url], { cwd: project, env })).stdout).toContain('Result: sound.');
    client.destroy();
  });

  it('an exact key that exists is refused before anything is made (exit 2); a missing bucket too', async () => {
    const project = await makeProject();
    const env = offsiteEnv(server);
    const first = await runCli(['backup', '-c', 'secrets', '-y', '-o', 's3://offsite/exact/one.tar.gz'], { cwd: project, env });
    expect(first.code).toBe(0);
    const again = await runCli(['backup', '-c', 'secrets', '-y', '-o', 's3://offsite/exact/one.tar.gz'], { cwd: project, env });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('s3://offsite/exact/one.tar.gz already exists');
    const missing = await runCli(['backup', '-c', 'secrets', '-y', '-o', 's3://no-such-bucket/x/'], { cwd: project, env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('has no bucket "no-such-bucket"');
    expect(await server.openUploads()).toEqual([]);
  });

  it(
    'SIGINT in the middle of a large upload: exit within seconds, the multipart upload aborted, nothing under the key',
    { timeout: 180_000 },
    async () => {
      const project = await makeProject();
      // 300 MB of random data: parts of 5 MiB start going up long before the archive is done.
      await run('sh', ['-c', `head -c 300000000 /dev/urandom > '${join(project, 'docker/keys/large.bin')}'`]);
      const env = { ...offsiteEnv(server), ORKESTRA_S3_PART_MB: '5' };
      const running = startCli(['backup', '-c', 'secrets', '-y', '-o', 's3://offsite/interrupted/'], { cwd: project, env });
      await waitUntil(async () => (await server.openUploads()).some((upload) => upload.parts > 0), 'parts uploaded');
      const interruptedAt = Date.now();
      running.signal('SIGINT');
      const result = await running.result;
      expect(result.code).toBe(1);
      expect(result.exitedAt - interruptedAt).toBeLessThan(10_000);
      expect(result.stderr).toContain('SIGINT received');
      expect(await server.openUploads()).toEqual([]);
      const list = await runCli(['list', 's3://offsite/interrupted/', '--json'], { cwd: project, env });
      expect((JSON.parse(list.stdout) as { archives: unknown[] }).archives).toEqual([]);
    },
  );

  it(
    'prune of an s3:// prefix keeps what restic would over two years of archives, broken ones left in place',
    { timeout: 300_000 },
    async () => {
      const project = await makeProject();
      const env = offsiteEnv(server);
      const client = s3Client(server.endpoint, 'a', 'b');
      const archives = await syntheticArchives(project);
      for (const archive of archives) {
        await client.send(new PutObjectCommand({ Bucket: 'other', Key: `prod/${archive.name}`, Body: archive.bytes }));
      }
      client.destroy();
      const policy = { daily: 7, weekly: 5, monthly: 12, yearly: 3 };
      const expected = expectedKeepSet(archives, policy);
      const args = ['prune', 's3://other/prod/', '--keep-daily', '7', '--keep-weekly', '5', '--keep-monthly', '12', '--keep-yearly', '3'];
      const dryRun = await runCli([...args, '--dry-run', '--json'], { cwd: project, env });
      expect(dryRun.code).toBe(0);
      const plan = JSON.parse(dryRun.stdout) as { archives: { name: string; keep: boolean }[] };
      expect(
        plan.archives
          .filter((archive) => archive.keep)
          .map((archive) => archive.name)
          .sort(),
      ).toEqual([...expected].sort());
      const prune = await runCli(args, { cwd: project, env });
      expect(prune.code).toBe(0);
      const left = JSON.parse((await runCli(['list', 's3://other/prod/', '--json'], { cwd: project, env })).stdout) as {
        archives: { name: string }[];
      };
      expect(left.archives.map((archive) => archive.name).sort()).toEqual([...expected].sort());
    },
  );
});

describe('backup -o - and reading from standard input', () => {
  it('the archive on stdout lists manifest.json first in tar, and verify - finds it sound; restore - is refused', async () => {
    const project = await makeProject();
    const archive = join(project, 'piped.tar.gz');
    const { stdout: listing } = await run(
      'sh',
      ['-c', `"$0" "$1" backup -c secrets -y -o - | tee '${archive}' | tar tzf -`, process.execPath, BINARY],
      {
        cwd: project,
      },
    );
    expect(listing.split('\n')[0]).toBe('manifest.json');
    expect(listing).toContain('secrets/.env');
    const { stdout: verified } = await run('sh', ['-c', `"$0" "$1" verify - < '${archive}'`, process.execPath, BINARY], { cwd: project });
    expect(verified).toContain('Result: sound.');
    const restore = await run('sh', ['-c', `"$0" "$1" restore - -y < '${archive}'`, process.execPath, BINARY], { cwd: project }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect('code' in restore && restore.code).toBe(2);
    expect((restore as { stderr: string }).stderr).toContain('restore cannot read the archive from standard input');
  });

  it('a reader that stops early (| head) is one clear line and exit 1, not a crash', async () => {
    const project = await makeProject();
    await run('sh', ['-c', `head -c 50000000 /dev/urandom > '${join(project, 'docker/keys/large.bin')}'`]);
    const { stdout } = await run(
      'bash',
      [
        '-c',
        `"$0" "$1" backup -c secrets -y -o - 2> err.txt | head -c 100 > /dev/null; echo "EXIT=\${PIPESTATUS[0]}"`,
        process.execPath,
        BINARY,
      ],
      { cwd: project },
    );
    expect(stdout).toContain('EXIT=1');
    const stderr = await readFile(join(project, 'err.txt'), 'utf8');
    expect(stderr).toContain('standard output was closed before the whole archive was written (EPIPE)');
    expect(stderr).not.toContain('unexpected failure');
  });

  it('-o - to a terminal is refused (exit 2) before anything is made', async () => {
    const project = await makeProject();
    // `script` gives the binary a terminal for stdout, as an operator's shell would.
    const result = await run(
      'script',
      ['-qec', `"${process.execPath}" "${BINARY}" backup -c secrets -y -o -; echo "EXIT=$?"`, '/dev/null'],
      {
        cwd: project,
      },
    );
    expect(result.stdout).toContain('-o - would write a binary archive to the terminal');
    expect(result.stdout).toContain('EXIT=2');
  });
});

describe('an off-site store that cannot be used: a clear line, nothing written', () => {
  it('unreachable: retried, then exit 1 naming the endpoint setting', async () => {
    const project = await makeProject();
    const port = await freePort(); // nothing listens there
    const result = await runCli(['backup', '-c', 'secrets', '-y', '-o', 's3://offsite/x/', '--endpoint-url', `http://127.0.0.1:${port}`], {
      cwd: project,
      env: { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', ...QUICK_RETRIES },
    });
    expect(result.code).toBe(1);
    expect(result.stderr.match(/ECONNREFUSED\); trying again in 0\.2 s/g)).toHaveLength(2);
    expect(result.stderr).toContain('Check --endpoint-url (or AWS_ENDPOINT_URL_S3)');
  });

  it('stalled (accepts, never answers): the request times out, is retried, then exit 1', { timeout: 60_000 }, async () => {
    const project = await makeProject();
    const sockets: Socket[] = [];
    const stalled: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const port = (stalled.address() as { port: number }).port;
    try {
      const result = await runCli(['list', 's3://offsite/', '--endpoint-url', `http://127.0.0.1:${port}`], {
        cwd: project,
        env: { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', ORKESTRA_S3_TIMEOUT_SECONDS: '1', ...QUICK_RETRIES },
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/trying again in 0\.2 s/);
      expect(result.stderr).toMatch(/cannot reach the object store at http:\/\/127\.0\.0\.1:\d+ while checking bucket offsite/);
    } finally {
      for (const socket of sockets) socket.destroy();
      stalled.close();
    }
  });

  it('wrong credentials (a loopback stub answering 403 InvalidAccessKeyId, as AWS does): exit 1 naming AWS_ACCESS_KEY_ID, no secret printed', async () => {
    const project = await makeProject();
    const stub = createHttpServer((request, response) => {
      response.writeHead(403, { 'content-type': 'application/xml' });
      response.end(
        request.method === 'HEAD' ? undefined : '<Error><Code>InvalidAccessKeyId</Code><Message>The key does not exist.</Message></Error>',
      );
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    const port = (stub.address() as { port: number }).port;
    try {
      const result = await runCli(
        ['backup', '-c', 'secrets', '-y', '-o', 's3://offsite/x/', '--endpoint-url', `http://127.0.0.1:${port}`],
        {
          cwd: project,
          env: { AWS_ACCESS_KEY_ID: 'wrong', AWS_SECRET_ACCESS_KEY: 'wrong-secret-never-printed', ...QUICK_RETRIES },
        },
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('rejected the credentials');
      expect(result.stderr).toContain('Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
      expect(result.stderr).not.toContain('wrong-secret-never-printed');
    } finally {
      stub.close();
    }
  });

  it('s3:// without a bucket is a usage error (exit 2)', async () => {
    const project = await makeProject();
    const result = await runCli(['backup', '-c', 'secrets', '-y', '-o', 's3:///nightly/'], { cwd: project });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('s3:///nightly/ names no bucket');
  });
});

interface SyntheticArchive {
  name: string;
  createdAt: Date;
  sound: boolean;
  bytes: Buffer;
}

/**
 * About 400 archives over two years (three a day at first, then thinning), as `backup` names
 * them, with failed runs among them: empty objects and cut ones.
 */
async function syntheticArchives(project: string): Promise<SyntheticArchive[]> {
  const folder = join(project, 'synthetic');
  await writeFile(join(project, 'placeholder'), '');
  const { manifestFor, writeRawArchive } = await import('../helpers/archives.js');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(folder);
  const archives: SyntheticArchive[] = [];
  const start = Date.UTC(2024, 11, 1, 2, 0, 0);
  const file = { path: 'secrets/.env', content: 'A=1\n' };
  for (let hours = 0, index = 0; hours < 2 * 365 * 24; hours += index % 5 === 0 ? 7 : 53, index += 1) {
    const createdAt = new Date(start + hours * 3600_000);
    const iso = createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const stamp = iso.replace(/[-:]/g, '').replace('T', '-').replace('Z', '');
    const name = `orkestra-backup-local-${stamp}.tar.gz`;
    const path = join(folder, name);
    await writeRawArchive(path, [
      { path: 'manifest.json', content: JSON.stringify(manifestFor([file], { createdAt: iso, environment: 'local' })) },
      file,
    ]);
    let bytes = await readFile(path);
    let sound = true;
    if (index % 37 === 5) [bytes, sound] = [Buffer.alloc(0), false];
    else if (index % 41 === 7) [bytes, sound] = [bytes.subarray(0, 20), false];
    archives.push({ name, createdAt, sound, bytes });
  }
  return archives;
}

/**
 * restic's forget rules, written here on their own: for each rule, walk the sound archives
 * newest first and keep the first one of each new period until the rule has N periods; keep the
 * union, the newest sound archive, and every broken archive (never removed without --remove-broken).
 */
function expectedKeepSet(
  archives: SyntheticArchive[],
  policy: { daily: number; weekly: number; monthly: number; yearly: number },
): Set<string> {
  const sound = archives.filter((archive) => archive.sound).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const keep = new Set<string>(archives.filter((archive) => !archive.sound).map((archive) => archive.name));
  keep.add(sound[0].name);
  const periods: Record<keyof typeof policy, (date: Date) => string> = {
    daily: (date) => date.toISOString().slice(0, 10),
    weekly: isoWeek,
    monthly: (date) => date.toISOString().slice(0, 7),
    yearly: (date) => date.toISOString().slice(0, 4),
  };
  for (const rule of Object.keys(policy) as (keyof typeof policy)[]) {
    const seen = new Set<string>();
    for (const archive of sound) {
      const period = periods[rule](archive.createdAt);
      if (seen.has(period)) continue;
      if (seen.size === policy[rule]) break;
      seen.add(period);
      keep.add(archive.name);
    }
  }
  return keep;
}

function isoWeek(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  return `${day.getUTCFullYear()}-W${Math.ceil(((day.getTime() - yearStart) / 86400_000 + 1) / 7)}`;
}

async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
