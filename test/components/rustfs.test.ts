import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { join } from 'node:path';
import { downgradeToV1 } from '../helpers/archives.js';
import { runCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, imageMode, writeDotenv } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { deleteObject, putObject, s3Client, seed, snapshotStore, type SeedObject } from '../helpers/s3.js';
import { startS3, uniqueName, type StackContext } from '../engine/stack.js';
import { namesBesideHistory } from '../helpers/history.js';

/**
 * Offline the store is s3rver (a real S3 protocol server, not RustFS) in a container; with
 * ORKESTRA_TEST_IMAGES=upstream it is MinIO.
 */
const server = imageMode === 'upstream' ? 'MinIO' : 's3rver';
const ACCESS = 'orkestra-access';
const SECRET = 'orkestra-secret-Kw93';
const containers = new Containers();
let stack: StackContext;
let big: Buffer;

const BUCKETS = ['avatars', 'docs.v2', 'exports', 'empty-bucket'];
function objects(): SeedObject[] {
  return [
    {
      bucket: 'avatars',
      key: 'users/1/avatar.png',
      body: randomBytes(20_000),
      contentType: 'image/png',
      metadata: { owner: 'ada', 'upload-id': '42' },
    },
    { bucket: 'avatars', key: 'users/2/avatar.png', body: randomBytes(5_000), contentType: 'image/png' },
    { bucket: 'docs.v2', key: 'a/b/c/d/deep.txt', body: Buffer.from('deep\n'.repeat(1000)), contentType: 'text/plain; charset=utf-8' },
    { bucket: 'docs.v2', key: 'zero.bin', body: Buffer.alloc(0), contentType: 'application/octet-stream' },
    {
      bucket: 'docs.v2',
      key: 'with space/ünïcødé ✓ file.txt',
      body: Buffer.from('unicode ✓\n'),
      contentType: 'text/plain',
      metadata: { lang: 'fr' },
    },
    { bucket: 'exports', key: 'big/blob.bin', body: big, contentType: 'application/octet-stream' },
  ];
}

beforeAll(() => {
  stack = engineStack();
  big = Buffer.concat([randomBytes(32 * 1024 * 1024), Buffer.alloc(32 * 1024 * 1024 + 12345, 'compressible ')]);
});
afterAll(() => containers.removeAll());

async function newStore() {
  const container = containers.track(await startS3(stack, uniqueName('okb-rustfs'), { accessKey: ACCESS, secretKey: SECRET }));
  const project = await makeProject({ keys: false });
  // Offline the store listens on the host's loopback: the operator sets RUSTFS_ENDPOINT.
  // Upstream it publishes port 9000 and the tool finds it through the Docker API.
  const env: Record<string, string> = { RUSTFS_ACCESS_KEY: ACCESS, RUSTFS_SECRET_KEY: SECRET };
  if (imageMode !== 'upstream') env.RUSTFS_ENDPOINT = container.endpoint;
  await writeDotenv(project, env);
  return { name: container.name, project, client: s3Client(container.endpoint, ACCESS, SECRET) };
}

function run(store: { name: string; project: string }, args: string[]) {
  return runCli([...args, '--container', `rustfs=${store.name}`], { cwd: store.project, env: engineEnv(), timeoutMs: 300_000 });
}

describeEngine(`rustfs through the S3 API (${server})`, () => {
  it('every bucket and object round-trips into an empty store: bytes, keys, content type and metadata', { timeout: 240_000 }, async () => {
    const source = await newStore();
    await seed(source.client, BUCKETS, objects());
    const expected = await snapshotStore(source.client);

    const backup = await run(source, ['backup', '-c', 'rustfs', '-y']);
    expect(backup.stderr).not.toContain('FAILED');
    expect(backup.code).toBe(0);
    const archive = backup.stdout.trim();
    // Names as stored whatever the locale: without one, tar escapes every non-ASCII byte.
    const listing = execFileSync('tar', ['--quoting-style=literal', '-tzf', archive], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).toEqual(
      expect.arrayContaining([
        'rustfs/avatars/users/1/avatar.png',
        'rustfs/docs.v2/a/b/c/d/deep.txt',
        'rustfs/docs.v2/zero.bin',
        'rustfs/docs.v2/with space/ünïcødé ✓ file.txt',
        'rustfs/exports/big/blob.bin',
      ]),
    );
    const manifest = JSON.parse(execFileSync('tar', ['xzOf', archive, 'manifest.json'], { encoding: 'utf8' }));
    expect(manifest.details.rustfs.buckets).toEqual([...BUCKETS].sort());
    // Each object's key and attributes are in the rustfs index beside its checksum, not in the manifest.
    const index = execFileSync('tar', ['xzOf', archive, 'index/rustfs.jsonl'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { path: string });
    expect(index).toHaveLength(manifest.index.rustfs.files);
    expect(index.find((line) => line.path === 'avatars/users/1/avatar.png')).toMatchObject({
      size: 20_000,
      details: { key: 'users/1/avatar.png', contentType: 'image/png' },
    });

    const target = await newStore();
    const restore = await run(target, ['restore', archive, '-y']);
    expect(restore.stderr).not.toContain('FAILED');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/restored rustfs: 6 objects uploaded, 0 unchanged/);
    expect(await snapshotStore(target.client)).toEqual(expected);

    // A second dry-run finds nothing to do: the 64 MB multipart object compares as unchanged too.
    const again = await run(target, ['restore', archive, '--dry-run']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('bucket exports: exists — 0 to add, 0 to overwrite, 1 unchanged, 0 only in the target (kept)');
  });

  it(
    'an archive in the previous format (v1: objects listed in the manifest) still verifies and restores',
    { timeout: 240_000 },
    async () => {
      const source = await newStore();
      await seed(source.client, BUCKETS, objects());
      const expected = await snapshotStore(source.client);
      const backup = await run(source, ['backup', '-c', 'rustfs', '-y']);
      expect(backup.code).toBe(0);
      const v1 = join(source.project, 'backups', 'made-by-v1.tar.gz');
      await downgradeToV1(backup.stdout.trim(), v1);
      const manifest = JSON.parse(execFileSync('tar', ['xzOf', v1, 'manifest.json'], { encoding: 'utf8' })) as Record<string, unknown>;
      expect(manifest).toMatchObject({ schema: 'orkestra-backup/v1', files: expect.any(Array) as unknown });
      expect(manifest.index).toBeUndefined();

      const verify = await run(source, ['verify', v1]);
      expect(verify.stdout).toContain('Result: sound.');
      const target = await newStore();
      const restore = await run(target, ['restore', v1, '-y']);
      expect(restore.code).toBe(0);
      expect(restore.stdout).toMatch(/restored rustfs: 6 objects uploaded, 0 unchanged/);
      expect(await snapshotStore(target.client)).toEqual(expected);
    },
  );

  it('restore into a store with changed, missing and extra objects: the dry-run names each difference and changes nothing; the restore fixes them and keeps what it replaces', async () => {
    const store = await newStore();
    await seed(
      store.client,
      BUCKETS,
      objects().filter((object) => object.bucket !== 'exports'),
    );
    const original = await snapshotStore(store.client);
    const backup = await run(store, ['backup', '-c', 'rustfs', '-y']);
    expect(backup.code).toBe(0);
    const archive = backup.stdout.trim();

    await putObject(store.client, { bucket: 'avatars', key: 'users/1/avatar.png', body: Buffer.from('changed'), contentType: 'image/png' });
    await deleteObject(store.client, 'docs.v2', 'a/b/c/d/deep.txt');
    await putObject(store.client, { bucket: 'docs.v2', key: 'extra/only-here.txt', body: Buffer.from('extra') });
    const damaged = await snapshotStore(store.client);

    const dryRun = await run(store, ['restore', archive, '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('bucket avatars: exists — 0 to add, 1 to overwrite, 1 unchanged, 0 only in the target (kept)');
    expect(dryRun.stdout).toMatch(
      / {4}overwrite avatars\/users\/1\/avatar\.png \(20 kB; the current object is kept in bucket orkestra-pre-restore-/,
    );
    expect(dryRun.stdout).toContain('    add docs.v2/a/b/c/d/deep.txt (5 kB)');
    expect(dryRun.stdout).toContain('    only in target: docs.v2/extra/only-here.txt (kept as is)');
    expect(await snapshotStore(store.client)).toEqual(damaged);

    const restore = await run(store, ['restore', archive, '-y']);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(
      /2 objects uploaded, 3 unchanged; 1 overwritten objects kept in bucket orkestra-pre-restore-\d{8}-\d{6}/,
    );
    const after = await snapshotStore(store.client);
    for (const [key, value] of Object.entries(original)) expect(after[key]).toEqual(value);
    expect(after['docs.v2/extra/only-here.txt']).toEqual(damaged['docs.v2/extra/only-here.txt']);
    const aside = Object.keys(after).find((key) => /^orkestra-pre-restore-\d{8}-\d{6}\/avatars\/users\/1\/avatar\.png$/.test(key));
    expect(aside).toBeDefined();
    expect(after[aside!].sha256).toBe(damaged['avatars/users/1/avatar.png'].sha256);
  });

  // s3rver does not check V4 signatures, so the wrong credential here is the access key.
  it('wrong credentials are one clear line and nothing is written', async () => {
    const store = await newStore();
    await writeDotenv(store.project, {
      RUSTFS_ACCESS_KEY: 'not-the-access-key',
      RUSTFS_SECRET_KEY: 'not-the-secret',
      ...(imageMode !== 'upstream'
        ? {
            RUSTFS_ENDPOINT: (await stack.docker.getContainer(store.name).inspect()).Config.Env.find((entry) =>
              entry.startsWith('S3_PORT='),
            )!.replace('S3_PORT=', 'http://127.0.0.1:'),
          }
        : {}),
    });
    const backup = await run(store, ['backup', '-c', 'rustfs', '-y']);
    expect(backup.code).toBe(1);
    expect(backup.stderr).toMatch(/rejected the credentials \((InvalidAccessKeyId|AccessDenied)\).*RUSTFS_SECRET_KEY/);
    expect(backup.stderr).not.toContain('not-the-secret');
    expect(await namesBesideHistory(`${store.project}/backups`)).toEqual([]);
  });

  it.skipIf(imageMode === 'upstream')(
    'no container at all: with RUSTFS_ENDPOINT the store is reached over S3 alone, for backup, dry run and restore',
    async () => {
      const store = await newStore();
      await seed(store.client, ['avatars'], [{ bucket: 'avatars', key: 'logo.png', body: Buffer.from('logo'), contentType: 'image/png' }]);
      const none = { ...store, name: 'okb-no-rustfs-container' };
      const backup = await run(none, ['backup', 'all', '-y']);
      expect(backup.code).toBe(0);
      expect(backup.stderr).toMatch(/rustfs: object store at http:\/\/127\.0\.0\.1:\d+ \(RUSTFS_ENDPOINT, no container\)/);
      expect(execFileSync('tar', ['tzf', backup.stdout.trim()], { encoding: 'utf8' })).toContain('rustfs/avatars/logo.png');
      await deleteObject(store.client, 'avatars', 'logo.png');
      const dryRun = await run(none, ['restore', backup.stdout.trim(), '-c', 'rustfs', '--dry-run']);
      expect(dryRun.code).toBe(0);
      expect(dryRun.stdout).toContain('add avatars/logo.png');
      const restore = await run(none, ['restore', backup.stdout.trim(), '-c', 'rustfs', '-y']);
      expect(restore.code).toBe(0);
      expect((await snapshotStore(store.client))['avatars/logo.png']).toMatchObject({ contentType: 'image/png' });
    },
  );
});
