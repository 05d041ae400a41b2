import { copyFile, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ageKeyPair } from '../helpers/age.js';
import { manifestFor, writeRawArchive } from '../helpers/archives.js';
import { runCli } from '../helpers/cli.js';
import { offsiteEnv, startOffsiteServer, type OffsiteServer } from '../helpers/offsite.js';
import { makeProject } from '../helpers/project.js';
import { s3Client } from '../helpers/s3.js';
import { namesBesideHistory } from '../helpers/history.js';

const ENV_FILE = { path: 'secrets/.env', content: 'A=1\n' };

/** A small sound archive of `environment` made at `createdAt`, named as backup names it. */
async function archiveAt(folder: string, environment: string, createdAt: string): Promise<string> {
  const stamp = createdAt.replace(/[-:]/g, '').replace('T', '-').replace('Z', '');
  const name = `orkestra-backup-${environment}-${stamp}.tar.gz`;
  const manifest = manifestFor([ENV_FILE], { environment, createdAt });
  await writeRawArchive(join(folder, name), [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ENV_FILE]);
  return name;
}

/** An encrypted backup of the secrets through the binary: the archive's path. */
async function encryptedBackup(project: string, recipient: string): Promise<string> {
  const result = await runCli(['backup', '-c', 'secrets', '-y', '-r', recipient], { cwd: project });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
}

/**
 * Waits until the clock is past the second stamped in an archive's default name: an s3:// folder
 * backup takes its name from the clock second, and one of the same second would find the key
 * taken (uploads never replace an object).
 */
async function secondAfter(key: string): Promise<void> {
  const stamp = /-(\d{8}-\d{6})\.tar\.gz/.exec(key)![1];
  const now = () => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  while (now() <= stamp) await new Promise((resolve) => setTimeout(resolve, 50));
}

interface PrunedArchive {
  name: string;
  keep: boolean;
  sound: boolean;
  soundnessUnknown?: string;
  reasons: string[];
  series: string;
}

async function folderWithArchives() {
  const project = await makeProject();
  const folder = join(project, 'backups');
  const daily = [];
  for (let day = 20; day <= 29; day += 1) daily.push(await archiveAt(folder, 'local', `2026-11-${day}T03:00:00Z`));
  const sameDay = await archiveAt(folder, 'local', '2026-11-29T01:00:00Z'); // an older one of the 29th
  const otherEnvironment = await archiveAt(folder, 'prod', '2026-11-01T03:00:00Z');
  const empty = 'orkestra-backup-local-20261130-030000.tar.gz';
  await writeFile(join(folder, empty), ''); // the newest is a failed, empty run
  const garbage = 'orkestra-backup-local-20261130-040000.tar.gz';
  await writeFile(join(folder, garbage), 'not an archive');
  await writeFile(join(folder, 'notes.txt'), 'not an archive either');
  return { project, folder, daily, sameDay, otherEnvironment, empty, garbage };
}

describe('list and prune through the binary', () => {
  it('list --json shows every archive newest first, with broken ones marked', async () => {
    const { project, folder, empty, daily } = await folderWithArchives();
    const result = await runCli(['list', '--json'], { cwd: project });
    expect(result.code).toBe(0);
    const listed = JSON.parse(result.stdout) as { folder: string; archives: { name: string; sound: boolean; environment?: string }[] };
    expect(listed.folder).toBe(folder);
    expect(listed.archives).toHaveLength(14);
    expect(listed.archives.find((archive) => archive.name === empty)).toMatchObject({ sound: false });
    expect(listed.archives.find((archive) => archive.name === daily[9])).toMatchObject({ sound: true, environment: 'local' });
    const text = await runCli(['list'], { cwd: project });
    expect(text.stdout).toContain(`${empty}  0 B  BROKEN: empty file (0 bytes)`);
  });

  it('prune --dry-run says what each rule keeps and removes nothing; prune then removes exactly that', async () => {
    const { project, folder, daily, sameDay, otherEnvironment, empty, garbage } = await folderWithArchives();
    const before = (await namesBesideHistory(folder)).sort();
    const dryRun = await runCli(['prune', folder, '--keep-daily', '3', '--dry-run', '--json'], { cwd: project });
    expect(dryRun.code).toBe(0);
    const plan = JSON.parse(dryRun.stdout) as { archives: { name: string; keep: boolean; reasons: string[] }[] };
    const kept = plan.archives.filter((archive) => archive.keep).map((archive) => archive.name);
    // The three newest days' newest archives, and the broken ones left in place; never another environment's.
    expect(kept.sort()).toEqual([daily[7], daily[8], daily[9], empty, garbage].sort());
    expect(plan.archives.find((archive) => archive.name === daily[9])?.reasons).toEqual(['newest sound archive', 'daily 2026-11-29']);
    expect(plan.archives.map((archive) => archive.name)).not.toContain(otherEnvironment);
    expect((await namesBesideHistory(folder)).sort()).toEqual(before);

    const prune = await runCli(['prune', folder, '--keep-daily', '3'], { cwd: project });
    expect(prune.code).toBe(0);
    expect(prune.stdout).toContain('Removed 8 of 13 archives of environment local');
    const after = await namesBesideHistory(folder);
    expect(after.sort()).toEqual([daily[7], daily[8], daily[9], empty, garbage, otherEnvironment, 'notes.txt'].sort());
    expect(after).not.toContain(sameDay);
  });

  it('--remove-broken removes the broken ones too; --env prunes another environment', async () => {
    const { project, folder, empty, garbage, otherEnvironment } = await folderWithArchives();
    expect((await runCli(['prune', folder, '--keep-last', '1', '--remove-broken'], { cwd: project })).code).toBe(0);
    expect(await namesBesideHistory(folder)).not.toContain(empty);
    expect(await namesBesideHistory(folder)).not.toContain(garbage);
    await archiveAt(folder, 'prod', '2026-11-02T03:00:00Z');
    expect((await runCli(['prune', folder, '--keep-last', '1', '--env', 'prod'], { cwd: project })).code).toBe(0);
    expect(await namesBesideHistory(folder)).not.toContain(otherEnvironment);
  });

  it('a prune without any keep rule, or with a bad number, is refused (exit 2) and removes nothing', async () => {
    const { project, folder } = await folderWithArchives();
    const before = (await namesBesideHistory(folder)).sort();
    const none = await runCli(['prune', folder], { cwd: project });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('prune needs at least one keep rule above 0; nothing was removed');
    const zero = await runCli(['prune', folder, '--keep-daily', '0'], { cwd: project });
    expect(zero.code).toBe(2);
    const bad = await runCli(['prune', folder, '--keep-daily', 'seven'], { cwd: project });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--keep-daily needs a whole number, not "seven"');
    expect((await namesBesideHistory(folder)).sort()).toEqual(before);
  });

  it('backup --prune prunes the folder after a successful backup, keeping the new archive', async () => {
    const { project, folder, daily } = await folderWithArchives();
    const backup = await runCli(['backup', '-c', 'secrets', '-y', '--prune', 'last=2'], { cwd: project });
    expect(backup.code).toBe(0);
    const archive = backup.stdout.trim();
    expect(backup.stderr).toMatch(/Pruned .*backups: 10 removed, 4 kept/);
    const after = await namesBesideHistory(folder);
    expect(after).toContain(archive.split('/').pop());
    expect(after).toContain(daily[9]);
    expect(after).not.toContain(daily[8]);
  });

  it('the secrets archives of split backups are a series of their own: --keep-last 1 keeps the newest of each', async () => {
    const project = await makeProject();
    const folder = join(project, 'backups');
    const data = [await archiveAt(folder, 'local', '2026-11-20T03:00:00Z'), await archiveAt(folder, 'local', '2026-11-21T03:00:00Z')];
    const secrets: string[] = [];
    for (const createdAt of ['2026-11-20T03:00:00Z', '2026-11-21T03:00:00Z']) {
      const name = (await archiveAt(folder, 'local', createdAt)).replace('.tar.gz', '-secrets.tar.gz');
      const manifest = manifestFor([ENV_FILE], { environment: 'local', createdAt, split: 'secrets' });
      await writeRawArchive(join(folder, name), [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ENV_FILE]);
      secrets.push(name);
    }
    const result = await runCli(['prune', folder, '--keep-last', '1'], { cwd: project });
    expect(result.code).toBe(0);
    expect((await namesBesideHistory(folder)).sort()).toEqual([data[1], secrets[1]].sort());
  });

  it('prune --keep-last 1 without the identity keeps the only sound encrypted archive, not a newer copy of it cut at half its size', async () => {
    const project = await makeProject();
    const folder = join(project, 'backups');
    const { recipient } = await ageKeyPair(project);
    const real = (await encryptedBackup(project, recipient)).split('/').pop()!;
    const bytes = await readFile(join(folder, real));
    const cut = 'orkestra-backup-local-20991231-030000.tar.gz.age';
    await writeFile(join(folder, cut), bytes.subarray(0, bytes.length >> 1));
    const pruned = await runCli(['prune', folder, '--keep-last', '1'], { cwd: project });
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(await namesBesideHistory(folder)).toContain(real);
    expect(pruned.stdout).toContain(`${real}  keep    (newest sound archive, last)`);
    expect(pruned.stdout).toContain(`${cut}  keep    (soundness unknown: left in place): no record`);
  });

  it('prune without the identity keeps the real encrypted archive: newer copies cut at half its size, or changed at the same size, fill no keep slot and are left in place as unknown', async () => {
    const project = await makeProject();
    const folder = join(project, 'backups');
    const { recipient } = await ageKeyPair(project);
    const older = await encryptedBackup(project, recipient);
    const real = await encryptedBackup(project, recipient);
    const realName = real.split('/').pop()!;
    const olderName = older.split('/').pop()!;
    const bytes = await readFile(real);
    const record = JSON.parse(await readFile(`${real}.record.json`, 'utf8')) as { archive: string; bytes: number; sha256: string };
    expect(record).toMatchObject({ archive: realName, bytes: bytes.length, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown });
    expect((await stat(`${real}.record.json`)).mode & 0o777).toBe(0o600);
    const recordFor = (name: string) => JSON.stringify({ ...record, archive: name });
    // Newer copies, each named as a later backup would be: cut at half without a record; cut
    // at half beside its record; the whole size with one byte changed beside its record.
    const cutBare = 'orkestra-backup-local-20991229-030000.tar.gz.age';
    await writeFile(join(folder, cutBare), bytes.subarray(0, bytes.length >> 1));
    const cutRecorded = 'orkestra-backup-local-20991230-030000.tar.gz.age';
    await writeFile(join(folder, cutRecorded), bytes.subarray(0, bytes.length >> 1));
    await writeFile(join(folder, `${cutRecorded}.record.json`), recordFor(cutRecorded));
    const changed = 'orkestra-backup-local-20991231-030000.tar.gz.age';
    const changedBytes = Buffer.from(bytes);
    changedBytes[changedBytes.length - 40] ^= 0x01;
    await writeFile(join(folder, changed), changedBytes);
    await writeFile(join(folder, `${changed}.record.json`), recordFor(changed));

    const listed = JSON.parse((await runCli(['list', '--json'], { cwd: project })).stdout) as {
      archives: { name: string; sound: boolean; soundnessUnknown?: string }[];
    };
    const listedAs = (name: string) => listed.archives.find((archive) => archive.name === name);
    expect(listedAs(realName)).toMatchObject({ sound: true });
    expect(listedAs(cutBare)).toMatchObject({ sound: false, soundnessUnknown: expect.stringContaining('no record') as unknown });
    expect(listedAs(cutRecorded)).toMatchObject({
      sound: false,
      soundnessUnknown: expect.stringContaining('is not the recorded') as unknown,
    });
    const text = await runCli(['list'], { cwd: project });
    expect(text.stdout).toContain(`${cutBare}  `);
    expect(text.stdout).toMatch(new RegExp(`${cutBare} .* ENCRYPTED, SOUNDNESS UNKNOWN: no record`));

    const pruned = await runCli(['prune', folder, '--keep-last', '1', '--json'], { cwd: project });
    expect(pruned.code, pruned.stderr).toBe(0);
    const plan = JSON.parse(pruned.stdout) as { archives: PrunedArchive[]; removed: string[] };
    const decided = (name: string) => plan.archives.find((archive) => archive.name === name);
    expect(decided(realName)).toMatchObject({ keep: true, sound: true, reasons: ['newest sound archive', 'last'] });
    for (const name of [cutBare, cutRecorded, changed]) {
      expect(decided(name)).toMatchObject({ keep: true, sound: false, reasons: ['soundness unknown: left in place'] });
    }
    // Same size as recorded: only the SHA-256, checked because the prune relies on the slot it would hold, gives it away.
    expect(decided(changed)?.soundnessUnknown).toContain('SHA-256 is not the recorded one');
    expect(plan.removed).toEqual([olderName]);
    expect((await namesBesideHistory(folder)).sort()).toEqual(
      [realName, `${realName}.record.json`, cutBare, cutRecorded, `${cutRecorded}.record.json`, changed, `${changed}.record.json`].sort(),
    );
    // Not even --remove-broken removes what is not known to be broken.
    const again = await runCli(['prune', folder, '--keep-last', '1', '--remove-broken'], { cwd: project });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('3 encrypted of unknown soundness left in place');
    expect(await namesBesideHistory(folder)).toContain(cutBare);
  });

  it('backup --prune on a host with only the recipient keeps the new archive and its record, removes older ones with theirs', async () => {
    const project = await makeProject();
    const folder = join(project, 'backups');
    const { recipient } = await ageKeyPair(project);
    const older = (await encryptedBackup(project, recipient)).split('/').pop()!;
    const result = await runCli(['backup', '-c', 'secrets', '-y', '-r', recipient, '--prune', 'last=1'], { cwd: project });
    expect(result.code, result.stderr).toBe(0);
    const newest = result.stdout.trim().split('/').pop()!;
    expect(result.stderr).toContain('1 removed, 1 kept.');
    expect((await namesBesideHistory(folder)).sort()).toEqual([newest, `${newest}.record.json`].sort());
    expect(older).not.toBe(newest);
  });

  it("two archives of the same second are ordered by the name's -N: list shows the -2 first, prune --keep-last 1 keeps it, whatever the modification times", async () => {
    const project = await makeProject();
    const folder = join(project, 'backups');
    const first = await archiveAt(folder, 'local', '2026-11-20T21:58:35Z');
    const second = first.replace('.tar.gz', '-2.tar.gz');
    await copyFile(join(folder, first), join(folder, second));
    // The second's file looks older: only the name can order them.
    await utimes(join(folder, second), new Date('2026-11-20T21:58:35Z'), new Date('2026-11-20T21:58:35Z'));
    const listed = JSON.parse((await runCli(['list', '--json'], { cwd: project })).stdout) as { archives: { name: string }[] };
    expect(listed.archives.map((archive) => archive.name)).toEqual([second, first]);
    const pruned = await runCli(['prune', folder, '--keep-last', '1'], { cwd: project });
    expect(pruned.code).toBe(0);
    expect(await namesBesideHistory(folder)).toEqual([second]);
  });

  it('--remove-broken says the broken archives were removed, not that they were left in place', async () => {
    const { project, folder } = await folderWithArchives();
    const dryRun = await runCli(['prune', folder, '--keep-last', '1', '--remove-broken', '--dry-run'], { cwd: project });
    expect(dryRun.stdout).toContain('Would remove 12 of 13 archives of environment local');
    expect(dryRun.stdout).toContain('2 broken (to be removed: --remove-broken)');
    const pruned = await runCli(['prune', folder, '--keep-last', '1', '--remove-broken'], { cwd: project });
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).not.toContain('left in place');
    expect(pruned.stdout).toContain('2 broken (removed: --remove-broken)');
    const plain = await runCli(['prune', folder, '--keep-last', '1'], { cwd: project });
    expect(plain.stdout).not.toContain('broken');
  });

  it("a partial archive (-c of fewer components) is a series of its own: it never takes a full backup's keep slot, and keeps its own", async () => {
    const project = await makeProject();
    const folder = join(project, 'backups');
    const spool = { path: 'spool/queue.txt', content: 'job\n' };
    const made = async (createdAt: string, components: string[]) => {
      const stamp = createdAt.replace(/[-:]/g, '').replace('T', '-').replace('Z', '');
      const name = `orkestra-backup-local-${stamp}.tar.gz`;
      const files = components.includes('secrets') ? [ENV_FILE, spool] : [spool];
      const manifest = manifestFor(files, { environment: 'local', createdAt, components });
      await writeRawArchive(join(folder, name), [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ...files]);
      return name;
    };
    const fullOld = await made('2026-11-20T03:00:00Z', ['secrets', 'spool']);
    const full = await made('2026-11-21T03:00:00Z', ['secrets', 'spool']);
    const partialOld = await made('2026-11-21T09:00:00Z', ['spool']);
    const partial = await made('2026-11-21T10:00:00Z', ['spool']);
    const pruned = await runCli(['prune', folder, '--keep-last', '1', '--json'], { cwd: project });
    expect(pruned.code, pruned.stderr).toBe(0);
    const plan = JSON.parse(pruned.stdout) as { archives: PrunedArchive[]; removed: string[] };
    expect(plan.removed.sort()).toEqual([fullOld, partialOld].sort());
    expect(plan.archives.find((archive) => archive.name === full)).toMatchObject({ keep: true, series: 'components secrets,spool' });
    expect(plan.archives.find((archive) => archive.name === partial)).toMatchObject({ keep: true, series: 'components spool' });
    expect((await namesBesideHistory(folder)).sort()).toEqual([full, partial].sort());
  });
});

describe('prune of encrypted archives in an s3:// folder, on the off-site server', () => {
  let server: OffsiteServer;
  beforeAll(async () => {
    server = await startOffsiteServer(['offsite']);
  });
  afterAll(() => server?.stop());

  // Four processes (two backups, a prune, the store): room for a loaded machine beyond the default 60 s.
  it(
    'the record goes up as an object beside the archive; without the identity a newer cut copy fills no slot, and the older archive goes with its record',
    { timeout: 180_000 },
    async () => {
      const project = await makeProject();
      const env = offsiteEnv(server);
      const { recipient } = await ageKeyPair(project);
      const backup = async () => {
        const result = await runCli(['backup', '-c', 'secrets', '-y', '-r', recipient, '-o', 's3://offsite/sealed/'], {
          cwd: project,
          env,
        });
        expect(result.code, result.stderr).toBe(0);
        return result.stdout.trim().slice('s3://offsite/'.length);
      };
      const olderKey = await backup();
      await secondAfter(olderKey);
      const realKey = await backup();
      const client = s3Client(server.endpoint, 'a', 'b');
      const read = async (key: string) =>
        Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: 'offsite', Key: key }))).Body!.transformToByteArray());
      const record = JSON.parse((await read(`${realKey}.record.json`)).toString()) as { bytes: number; etag?: string };
      const bytes = await read(realKey);
      expect(record.bytes).toBe(bytes.length);
      expect(record.etag).toBeTruthy();
      const cutKey = 'sealed/orkestra-backup-local-20991231-030000.tar.gz.age';
      await client.send(new PutObjectCommand({ Bucket: 'offsite', Key: cutKey, Body: bytes.subarray(0, bytes.length >> 1) }));

      const pruned = await runCli(['prune', 's3://offsite/sealed/', '--keep-last', '1', '--json'], { cwd: project, env });
      expect(pruned.code, pruned.stderr).toBe(0);
      const plan = JSON.parse(pruned.stdout) as { archives: PrunedArchive[]; removed: string[] };
      const name = (key: string) => key.split('/').pop()!;
      expect(plan.archives.find((archive) => archive.name === name(realKey))).toMatchObject({ keep: true, sound: true });
      expect(plan.archives.find((archive) => archive.name === name(cutKey))).toMatchObject({
        keep: true,
        soundnessUnknown: expect.stringContaining('no record') as unknown,
      });
      expect(plan.removed).toEqual([name(olderKey)]);
      const left = await client.send(new ListObjectsV2Command({ Bucket: 'offsite', Prefix: 'sealed/' }));
      // The older archive went with its record and its history record copy.
      expect((left.Contents ?? []).map((object) => object.Key).sort()).toEqual(
        [realKey, `${realKey}.record.json`, `${realKey}.history.json`, cutKey].sort(),
      );
      // The listed ETag is the recorded one: the prune relied on the real archive without downloading it.
      expect(left.Contents?.find((object) => object.Key === realKey)?.ETag).toBe(record.etag);
      client.destroy();
    },
  );
});
