import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MongoArchiveReader } from '../../src/mongo/archive.js';
import { createBackend } from '../../src/tui/backend.js';
import { runCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, imageMode, writeDotenv } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { execText, readContainerFile, startMongo, uniqueName, type StackContext } from '../engine/stack.js';
import { namesBesideHistory } from '../helpers/history.js';

/**
 * Offline, the mongodb container carries STAND-INS for mongodump/mongorestore (no MongoDB
 * exists in any registry these machines reach): these tests then prove the plumbing — argv,
 * remapping flags, byte-exact streaming through the exec API, exit codes, stderr — not MongoDB
 * itself. With ORKESTRA_TEST_IMAGES=upstream the same tests run against the real mongo image.
 */
const upstream = imageMode === 'upstream';
const label = upstream ? '[real mongo image]' : '[mongodump/mongorestore STAND-INS, plumbing only]';
const ROOT_PASSWORD = 'mongo-root-pw-7Hq';
const containers = new Containers();
let stack: StackContext;
let mongo: string;

beforeAll(async () => {
  stack = engineStack();
  mongo = containers.track(await startMongo(stack, uniqueName('okb-mongo'), { rootUser: 'root', rootPassword: ROOT_PASSWORD })).name;
  if (upstream) await mongosh(`db.getSiblingDB('test').bar.insertMany([{ _id: 1, name: 'bar' }])`);
});
afterAll(() => containers.removeAll());

function mongosh(script: string): Promise<string> {
  return execText(stack, mongo, [
    'mongosh',
    '--quiet',
    '-u',
    'root',
    '-p',
    ROOT_PASSWORD,
    '--authenticationDatabase',
    'admin',
    '--eval',
    script,
  ]);
}

async function project(database: string, extra: Record<string, string> = {}): Promise<string> {
  const dir = await makeProject({ keys: false });
  await writeDotenv(dir, { MONGO_DATABASE: database, ...extra });
  return dir;
}

function run(dir: string, args: string[]) {
  return runCli([...args, '--container', `mongodb=${mongo}`], { cwd: dir, env: engineEnv() });
}

async function calls(): Promise<string[]> {
  return (await execText(stack, mongo, ['cat', '/stand-in/calls.log'])).trim().split('\n');
}

/** The stand-in server holds the namespaces of the fixture a real mongodump wrote (test.bar, admin.system.version). */
async function serverHoldsTheFixture(): Promise<void> {
  await execText(stack, mongo, ['sh', '-c', 'rm -f /stand-in/server.archive* && cp /stand-in/test.bar.archive /stand-in/server.archive']);
}

/** "db.collection documents" for each namespace of a mongodump archive. */
function namespacesOf(archive: Buffer): string[] {
  const reader = new MongoArchiveReader();
  reader.push(archive);
  return reader.finish().namespaces.map((namespace) => `${namespace.db}.${namespace.collection} ${namespace.documents}`);
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The dump's parts in archive order, concatenated: what a restore streams into mongorestore. */
function dumpInArchive(archive: string): Buffer {
  return execFileSync('tar', ['xzOf', archive, '--wildcards', 'mongodb/dump/part-*']);
}

async function backupOf(database: string): Promise<string> {
  const result = await run(await project(database), ['backup', '-c', 'mongodb', '-y']);
  expect(result.stderr).not.toContain('FAILED');
  expect(result.code).toBe(0);
  return result.stdout.trim();
}

describeEngine('mongodb through the Docker Engine API', () => {
  it(`backup cuts mongodump's plain archive into parts by collection, which concatenate to the same dump ${label}`, async () => {
    const archive = await backupOf('test');
    const listing = execFileSync('tar', ['tzf', archive], { encoding: 'utf8' }).trim().split('\n');
    // The prelude, then test.bar's segments, then admin.system.version's.
    expect(listing).toEqual([
      'manifest.json',
      'index/mongodb.jsonl',
      'mongodb/database.txt',
      'mongodb/dump/part-00000000',
      'mongodb/dump/part-00000001',
      'mongodb/dump/part-00000002',
    ]);
    expect(execFileSync('tar', ['xzOf', archive, 'mongodb/database.txt'], { encoding: 'utf8' })).toBe('test\n');
    const dump = dumpInArchive(archive);
    expect(dump.readUInt32LE(0)).toBe(0x8199e26d);
    if (!upstream) {
      // The fixture's collections are not interleaved: cut by collection, the parts are mongodump's bytes in its order.
      expect(sha256(dump)).toBe(sha256(await readContainerFile(stack, mongo, '/stand-in/last-dump.out')));
      const dumpCall = (await calls()).filter((line) => line.startsWith('mongodump')).at(-1)!;
      expect(dumpCall).toMatch(
        /^mongodump --db=test --archive --username=root --authenticationDatabase=admin --config=\/tmp\/\.orkestra-backup-\w+-\d+-[0-9a-f]+\.yaml$/,
      );
      const config = await readContainerFile(stack, mongo, '/stand-in/last-config.yaml');
      expect(config.toString()).toBe(`password: "${ROOT_PASSWORD}"\n`);
    }
    expect(await execText(stack, mongo, ['sh', '-c', 'ls -a /tmp'])).not.toContain('.orkestra-backup-');
  });

  it(`restore streams the dump's parts byte for byte into mongorestore --drop --archive, remapping test → orkestra ${label}`, async () => {
    const archive = await backupOf('test');
    if (upstream) await mongosh(`db.getSiblingDB('orkestra').dropDatabase()`);
    const target = await project('orkestra');
    const result = await run(target, ['restore', archive, '-y']);
    expect(result.stderr).toContain('mongodb: remapping database test → orkestra');
    expect(result.code).toBe(0);
    if (upstream) {
      expect(await mongosh(`db.getSiblingDB('orkestra').bar.countDocuments()`)).toContain('1');
      return;
    }
    const restoreCall = (await calls()).filter((line) => line.startsWith('mongorestore')).at(-1)!;
    expect(restoreCall).toMatch(
      /^mongorestore --drop --archive --nsInclude=test\.\* --nsFrom=test\.\* --nsTo=orkestra\.\* --username=root --authenticationDatabase=admin --config=\/tmp\/\.orkestra-backup-\w+-\d+-[0-9a-f]+\.yaml$/,
    );
    expect(sha256(await readContainerFile(stack, mongo, '/stand-in/last-restore.in'))).toBe(sha256(dumpInArchive(archive)));
    expect(result.stdout).toMatch(
      /restored mongodb: 1 document into orkestra; previous data kept in docker\/\.pre-restore-\d{8}-\d{6}\/mongodb\//,
    );
  });

  it(`no remapping flags when the database names are equal ${label}`, async () => {
    const archive = await backupOf('test');
    const result = await run(await project('test'), ['restore', archive, '-y']);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('remapping');
    if (!upstream) {
      // Scoped to the archive's database even with equal names: the dump also holds admin.system.version.
      expect((await calls()).filter((line) => line.startsWith('mongorestore')).at(-1)).toMatch(
        /^mongorestore --drop --archive --nsInclude=test\.\* --username=root /,
      );
      expect(result.stdout).toMatch(/restored mongodb: 1 document into test/);
    }
  });

  it.skipIf(upstream)(
    'an archive that keeps the dump as one gzip file (mongo.archive.gz) restores it byte for byte with --gzip [STAND-IN]',
    async () => {
      const { writeRawArchive, manifestFor } = await import('../helpers/archives.js');
      const { gzipSync } = await import('node:zlib');
      const { readFileSync } = await import('node:fs');
      const gzipped = gzipSync(readFileSync(new URL('../fixtures/mongodump/test.bar.archive', import.meta.url)));
      const files = [
        { path: 'mongodb/database.txt', content: 'test\n' },
        { path: 'mongodb/mongo.archive.gz', content: gzipped },
      ];
      const dir = await project('test');
      const archive = join(dir, 'backups', 'older.tar.gz');
      const manifest = manifestFor(files, { components: ['mongodb'], details: { mongodb: { database: 'test' } } });
      await writeRawArchive(archive, [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ...files]);
      const result = await run(dir, ['restore', archive, '-y']);
      expect(result.code).toBe(0);
      const restores = (await calls()).filter((line) => line.startsWith('mongorestore'));
      expect(restores.at(-2)).toMatch(/^mongorestore --dryRun --drop --archive --gzip --nsInclude=test\.\* /);
      expect(restores.at(-1)).toMatch(/^mongorestore --drop --archive --gzip --nsInclude=test\.\* /);
      expect(sha256(await readContainerFile(stack, mongo, '/stand-in/last-restore.in'))).toBe(sha256(gzipped));
      expect(result.stdout).toMatch(/restored mongodb: 1 document into test/);
    },
  );

  it(`dry-run runs mongorestore --dryRun with the same arguments, lists every namespace with its documents and changes nothing ${label}`, async () => {
    if (!upstream) await serverHoldsTheFixture();
    const archive = await backupOf('test');
    if (!upstream) await execText(stack, mongo, ['rm', '-f', '/stand-in/last-restore.in']);
    const before = upstream ? '' : (await calls()).length;
    const result = await run(await project('orkestra'), ['restore', archive, '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('remapping database test → orkestra');
    expect(result.stdout).toContain('test.bar → orkestra.bar (collection): 1 document, dropped and restored');
    expect(result.stdout).toContain(
      'the whole dump was read by orkestra-backup: framing, BSON and the CRC-64 of 2 namespaces check out (1 document to restore)',
    );
    expect(result.stdout).toMatch(
      /mongorestore --dryRun connected to MongoDB in \S+ and accepted the dump's header and collection metadata \(it reads no documents\)/,
    );
    expect(result.stdout).toMatch(/before --drop, the current database orkestra is dumped into docker\/\.pre-restore-<stamp>\/mongodb\//);
    expect(result.stdout).not.toContain('parsed the whole archive');
    if (upstream) return;
    expect(result.stdout).toContain('admin.system.version (collection): not restored (outside database test)');
    const newCalls = (await calls()).slice(Number(before));
    // mongorestore --dryRun, and the container's shell listing the target's collections.
    expect(newCalls).toHaveLength(2);
    expect(newCalls[1]).toMatch(/^mongosh --quiet --norc \/tmp\/\.orkestra-backup-\w+-\d+-[0-9a-f]+\.js$/);
    expect(newCalls[0]).toMatch(/^mongorestore --dryRun --drop --archive --nsInclude=test\.\* --nsFrom=test\.\* --nsTo=orkestra\.\* /);
    expect(await execText(stack, mongo, ['sh', '-c', 'ls /stand-in'])).not.toContain('last-restore.in');
  });

  it(`key drift: a mongodb restore under other encryption keys is refused by name, never showing a value ${label}`, async () => {
    const keys = { OAUTH_TOKEN_ENCRYPTION_KEY: 'old-oauth-value-7f3a', ORKESTRA_KMS_MASTER_KEY: 'old-kms-value-91c2' };
    const dir = await project('test', keys);
    const backup = await run(dir, ['backup', '-c', 'mongodb,secrets', '-y']);
    expect(backup.code).toBe(0);
    const archive = backup.stdout.trim();
    const manifest = execFileSync('tar', ['xzOf', archive, 'manifest.json'], { encoding: 'utf8' });
    expect(JSON.parse(manifest)).toMatchObject({
      keyFingerprints: { keys: { OAUTH_TOKEN_ENCRYPTION_KEY: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown } },
    });

    // The deployment's keys were rotated since: KMS changed, OAUTH unchanged.
    await writeDotenv(dir, {
      MONGO_DATABASE: 'test',
      OAUTH_TOKEN_ENCRYPTION_KEY: keys.OAUTH_TOKEN_ENCRYPTION_KEY,
      ORKESTRA_KMS_MASTER_KEY: 'new-kms-value-55d0',
    });
    const dryRun = await run(dir, ['restore', archive, '-c', 'mongodb', '--dry-run', '--json']);
    expect(dryRun.code).toBe(1);
    const report = JSON.parse(dryRun.stdout) as { components: { name: string; failure?: string }[] };
    const failure = report.components.find((entry) => entry.name === 'mongodb')?.failure ?? '';
    expect(failure).toContain('ORKESTRA_KMS_MASTER_KEY (differs)');
    expect(failure).not.toContain('OAUTH_TOKEN_ENCRYPTION_KEY');
    const refused = await run(dir, ['restore', archive, '-c', 'mongodb', '-y']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--accept-key-drift');
    const accepted = await run(dir, ['restore', archive, '-c', 'mongodb', '--dry-run', '--accept-key-drift']);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain('ORKESTRA_KMS_MASTER_KEY (differs)');
    // Restoring the backup's secrets too brings its keys back: no drift to report.
    const withSecrets = await run(dir, ['restore', archive, '--dry-run']);
    expect(withSecrets.code).toBe(0);
    const inspect = await run(dir, ['inspect', archive]);
    expect(inspect.stdout).toContain('encryption keys fingerprinted: OAUTH_TOKEN_ENCRYPTION_KEY, ORKESTRA_KMS_MASTER_KEY');
    for (const output of [
      manifest,
      dryRun.stdout,
      dryRun.stderr,
      refused.stdout,
      refused.stderr,
      accepted.stdout,
      accepted.stderr,
      inspect.stdout,
    ]) {
      for (const value of [...Object.values(keys), 'new-kms-value-55d0']) expect(output).not.toContain(value);
    }
  });

  it(`the picker lists the databases a backup's shape records, with their counts, the dump's admin marked as not restored ${label}`, async () => {
    await serverHoldsTheFixture();
    const dir = await project('test');
    const archive = await backupOf('test');
    const backend = await createBackend({ projectDir: dir, containers: { mongodb: mongo }, settings: {} });
    const page = await backend.browse(archive, { component: 'mongodb', offset: 0, pageSize: 50 }, new AbortController().signal);
    expect(page.read).toBe(0); // from the manifest: the dump is not read
    expect(page.groups).toEqual(
      expect.arrayContaining([
        { kind: 'database', name: 'test', detail: '1 collection · 1 document' },
        { kind: 'database', name: 'admin', detail: '1 collection · 1 document · not restored (only test is)' },
      ]),
    );
  });

  it(`a failing mongodump fails the backup with its stderr shown and leaves no archive ${label}`, async () => {
    const dir = upstream ? await project('test', { MONGO_ROOT_PASSWORD: 'not-the-password' }) : await project('test');
    if (!upstream) await execText(stack, mongo, ['touch', '/stand-in/fail-dump']);
    try {
      const result = await run(dir, ['backup', '-c', 'mongodb', '-y']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        upstream
          ? /mongodump could not log in to MongoDB in \S+ as root: .*[Aa]uthentication failed.* Check MONGO_ROOT_USERNAME and MONGO_ROOT_PASSWORD/
          : /mongodump could not connect to MongoDB in \S+: Failed: error connecting to db server: server selection error.* Check that mongod is up/,
      );
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(await namesBesideHistory(join(dir, 'backups')).catch(() => [])).toEqual([]);
    } finally {
      if (!upstream) await execText(stack, mongo, ['rm', '-f', '/stand-in/fail-dump']);
    }
  });

  it.skipIf(upstream)('an empty mongodump output is a failure, not a 0-byte success [STAND-IN]', async () => {
    const dir = await project('test');
    await execText(stack, mongo, ['touch', '/stand-in/empty-dump']);
    try {
      const result = await run(dir, ['backup', '-c', 'mongodb', '-y']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('mongodump exited without writing an archive (0 bytes)');
      expect(await namesBesideHistory(join(dir, 'backups')).catch(() => [])).toEqual([]);
    } finally {
      await execText(stack, mongo, ['rm', '-f', '/stand-in/empty-dump']);
    }
  });

  it(`a wrong password is told apart from a bad archive and names the settings to fix ${label}`, async () => {
    const archive = await backupOf('test');
    const dir = await project('test', { MONGO_ROOT_PASSWORD: 'not-the-password' });
    const dryRun = await run(dir, ['restore', archive, '--dry-run']);
    expect(dryRun.code).toBe(1);
    expect(dryRun.stdout).toMatch(/mongorestore --dryRun could not log in to MongoDB in \S+ as root: .*Authentication failed/);
    expect(dryRun.stdout).toContain('Check MONGO_ROOT_USERNAME and MONGO_ROOT_PASSWORD in docker/.env');
    expect(dryRun.stdout).not.toContain('rejected the archive');
    expect(dryRun.stdout + dryRun.stderr).not.toContain('not-the-password');
  });

  it.skipIf(upstream)(
    'a dump cut after its prelude passes mongorestore --dryRun but not the dry run: the tool reads every document [STAND-IN]',
    async () => {
      const { writeRawArchive, manifestFor } = await import('../helpers/archives.js');
      const { gzipSync } = await import('node:zlib');
      const { readFileSync } = await import('node:fs');
      const fixture = readFileSync(new URL('../fixtures/mongodump/timeseries.archive', import.meta.url));
      const files = [
        { path: 'mongodb/database.txt', content: 'timeseries_test\n' },
        { path: 'mongodb/mongo.archive.gz', content: gzipSync(fixture.subarray(0, 20_000)) },
      ];
      const dir = await project('timeseries_test');
      const archive = join(dir, 'backups', 'cut.tar.gz');
      const manifest = manifestFor(files, { components: ['mongodb'], details: { mongodb: { database: 'timeseries_test' } } });
      await writeRawArchive(archive, [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ...files]);
      const before = (await calls()).length;
      const result = await run(dir, ['restore', archive, '--dry-run']);
      expect((await calls()).slice(before)).toEqual([expect.stringMatching(/^mongorestore --dryRun /)]);
      expect(result.stderr).toMatch(
        /mongodb\/mongo\.archive\.gz is damaged: the mongodump archive ends in the middle of a document\. Nothing was touched\./,
      );
      expect(result.code).toBe(2);
    },
  );

  it.skipIf(upstream)(
    'a mongorestore that fails after --drop gets the previous data put back from the dump kept before it [STAND-IN]',
    async () => {
      const archive = await backupOf('test');
      const dir = await project('test');
      // The server holds other data than the archive: the time-series dump.
      await execText(stack, mongo, [
        'sh',
        '-c',
        'rm -f /stand-in/server.archive.gz && cp /stand-in/timeseries.archive /stand-in/server.archive',
      ]);
      await execText(stack, mongo, ['touch', '/stand-in/fail-restore-once']);
      const result = await run(dir, ['restore', archive, '-y']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /E11000 duplicate key error — the previous data of database test was put back from .*\.pre-restore-\d{8}-\d{6}\/mongodb\//,
      );
      const keptFolder = join(
        dir,
        'docker',
        (await readdir(join(dir, 'docker'))).find((name) => name.startsWith('.pre-restore-'))!,
        'mongodb',
      );
      const [kept] = await readdir(keptFolder);
      const { gunzipSync } = await import('node:zlib');
      const { readFileSync } = await import('node:fs');
      const timeseries = readFileSync(new URL('../fixtures/mongodump/timeseries.archive', import.meta.url));
      expect(gunzipSync(readFileSync(join(keptFolder, kept)))).toEqual(timeseries);
      // The server holds what it held before, namespace for namespace (the stand-in's state is a mongodump archive).
      expect(namespacesOf(await readContainerFile(stack, mongo, '/stand-in/server.archive'))).toEqual(namespacesOf(timeseries));
      const restores = (await calls()).filter((line) => line.startsWith('mongorestore --drop'));
      expect(restores.at(-1)).toMatch(/^mongorestore --drop --archive --gzip --nsInclude=test\.\* /);
    },
  );

  it.skipIf(upstream)('--no-keep-mongodb: no dump before --drop, and the dry run and the gate say so [STAND-IN]', async () => {
    const archive = await backupOf('test');
    const dir = await project('test');
    const dryRun = await run(dir, ['restore', archive, '--dry-run', '--no-keep-mongodb']);
    expect(dryRun.stdout).toContain('--no-keep-mongodb: the current data of test is NOT kept before --drop');
    const before = (await calls()).length;
    const result = await run(dir, ['restore', archive, '-y', '--no-keep-mongodb']);
    expect(result.code).toBe(0);
    const newCalls = (await calls()).slice(before);
    expect(newCalls.filter((line) => line.startsWith('mongodump'))).toEqual([]);
    expect(newCalls.filter((line) => line.startsWith('mongorestore --drop'))).toHaveLength(1);
    expect(result.stdout).not.toContain('previous data kept');
  });
});
