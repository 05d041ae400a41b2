import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, imageMode, writeDotenv } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { execText, readContainerFile, startMongo, uniqueName, type StackContext } from '../engine/stack.js';

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
  return execText(stack, mongo, ['mongosh', '--quiet', '-u', 'root', '-p', ROOT_PASSWORD, '--authenticationDatabase', 'admin', '--eval', script]);
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

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function dumpInArchive(archive: string): Buffer {
  return execFileSync('tar', ['xzOf', archive, 'mongodb/mongo.archive.gz']);
}

async function backupOf(database: string): Promise<string> {
  const result = await run(await project(database), ['backup', '-c', 'mongodb', '-y']);
  expect(result.stderr).not.toContain('FAILED');
  expect(result.code).toBe(0);
  return result.stdout.trim();
}

describeEngine('mongodb through the Docker Engine API', () => {
  it(`backup streams mongodump's output byte for byte into mongodb/mongo.archive.gz ${label}`, async () => {
    const archive = await backupOf('test');
    const listing = execFileSync('tar', ['tzf', archive], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).toEqual(['manifest.json', 'mongodb/database.txt', 'mongodb/mongo.archive.gz']);
    expect(execFileSync('tar', ['xzOf', archive, 'mongodb/database.txt'], { encoding: 'utf8' })).toBe('test\n');
    const dump = dumpInArchive(archive);
    expect(dump.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    if (!upstream) {
      expect(sha256(dump)).toBe(sha256(await readContainerFile(stack, mongo, '/stand-in/last-dump.out')));
      const dumpCall = (await calls()).filter((line) => line.startsWith('mongodump')).at(-1)!;
      expect(dumpCall).toMatch(/^mongodump --db=test --archive --gzip --username=root --authenticationDatabase=admin --config=\/tmp\/\.orkestra-backup-[0-9a-f]+\.yaml$/);
      const config = await readContainerFile(stack, mongo, '/stand-in/last-config.yaml');
      expect(config.toString()).toBe(`password: "${ROOT_PASSWORD}"\n`);
    }
    expect(await execText(stack, mongo, ['sh', '-c', 'ls -a /tmp'])).not.toContain('.orkestra-backup-');
  });

  it(`restore streams the archive byte for byte into mongorestore --drop --archive --gzip, remapping test → orkestra ${label}`, async () => {
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
      /^mongorestore --drop --archive --gzip --nsInclude=test\.\* --nsFrom=test\.\* --nsTo=orkestra\.\* --username=root --authenticationDatabase=admin --config=\/tmp\/\.orkestra-backup-[0-9a-f]+\.yaml$/,
    );
    expect(sha256(await readContainerFile(stack, mongo, '/stand-in/last-restore.in'))).toBe(sha256(dumpInArchive(archive)));
    expect(result.stdout).toMatch(/restored mongodb: 1 documents into orkestra/);
  });

  it(`no remapping flags when the database names are equal ${label}`, async () => {
    const archive = await backupOf('test');
    const result = await run(await project('test'), ['restore', archive, '-y']);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('remapping');
    if (!upstream) {
      expect((await calls()).filter((line) => line.startsWith('mongorestore')).at(-1)).toMatch(/^mongorestore --drop --archive --gzip --username=root /);
    }
  });

  it(`dry-run runs mongorestore --dryRun with the same arguments, lists every namespace and changes nothing ${label}`, async () => {
    const archive = await backupOf('test');
    if (!upstream) await execText(stack, mongo, ['rm', '-f', '/stand-in/last-restore.in']);
    const before = upstream ? '' : (await calls()).length;
    const result = await run(await project('orkestra'), ['restore', archive, '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('remapping database test → orkestra');
    expect(result.stdout).toContain('test.bar → orkestra.bar (collection): dropped and restored');
    if (upstream) return;
    expect(result.stdout).toContain('admin.system.version (collection): not restored (outside database test)');
    const newCalls = (await calls()).slice(Number(before));
    expect(newCalls).toHaveLength(1);
    expect(newCalls[0]).toMatch(/^mongorestore --dryRun --drop --archive --gzip --nsInclude=test\.\* --nsFrom=test\.\* --nsTo=orkestra\.\* /);
    expect(sha256(await readContainerFile(stack, mongo, '/stand-in/last-dryrun.in'))).toBe(sha256(dumpInArchive(archive)));
    expect(await execText(stack, mongo, ['sh', '-c', 'ls /stand-in'])).not.toContain('last-restore.in');
  });

  it(`a failing mongodump fails the backup with its stderr shown and leaves no archive ${label}`, async () => {
    const dir = upstream ? await project('test', { MONGO_ROOT_PASSWORD: 'not-the-password' }) : await project('test');
    if (!upstream) await execText(stack, mongo, ['touch', '/stand-in/fail-dump']);
    try {
      const result = await run(dir, ['backup', '-c', 'mongodb', '-y']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(upstream ? /mongodump exited with code \d+: .*[Aa]uthentication failed/ : /mongodump exited with code 1: Failed: error connecting to db server: server selection error/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(await readdir(join(dir, 'backups')).catch(() => [])).toEqual([]);
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
      expect(await readdir(join(dir, 'backups')).catch(() => [])).toEqual([]);
    } finally {
      await execText(stack, mongo, ['rm', '-f', '/stand-in/empty-dump']);
    }
  });

  it.skipIf(upstream)('a mongorestore that rejects the archive fails the dry-run and refuses the restore, with its stderr [STAND-IN]', async () => {
    const archive = await backupOf('test');
    const dir = await project('orkestra');
    await execText(stack, mongo, ['touch', '/stand-in/fail-restore']);
    try {
      const dryRun = await run(dir, ['restore', archive, '--dry-run']);
      expect(dryRun.code).toBe(1);
      expect(dryRun.stdout).toContain('FAILED: mongorestore --dryRun rejected the archive: Failed: test.bar: error restoring from archive: E11000');
      const realRestores = async () => (await calls()).filter((line) => line.startsWith('mongorestore --drop')).length;
      const before = await realRestores();
      const restore = await run(dir, ['restore', archive, '-y']);
      expect(restore.code).toBe(1);
      expect(restore.stderr).toMatch(/restore refused, nothing was changed — mongodb: mongorestore --dryRun rejected/);
      expect(await realRestores()).toBe(before);
    } finally {
      await execText(stack, mongo, ['rm', '-f', '/stand-in/fail-restore']);
    }
  });
});
