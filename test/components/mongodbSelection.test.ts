import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, imageMode, writeDotenv } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { mongodumpArchive, namespaceHashes } from '../helpers/mongoNamespaces.js';
import { execText, readContainerFile, startMongo, uniqueName, type StackContext } from '../engine/stack.js';

/**
 * Restoring some collections of a MongoDB archive (`--ns`), in place or into another database
 * (`--to-database`), through the container's tools: the mongodump/mongorestore/mongosh STAND-INS,
 * whose server is the namespaces of one mongodump archive (/stand-in/server.archive). What each
 * test compares is that server, collection by collection, by the SHA-256 of its documents.
 */
const containers = new Containers();
let stack: StackContext;
let mongo: string;

beforeAll(async () => {
  stack = engineStack();
  mongo = containers.track(await startMongo(stack, uniqueName('okb-mongo-pick'), { rootUser: 'root', rootPassword: 'pick-pw' })).name;
});
afterAll(() => containers.removeAll());

/** What the server holds when the backup is made. */
const AT_BACKUP = mongodumpArchive('test', {
  users: [
    { _id: 1, name: 'ada' },
    { _id: 2, name: 'grace' },
    { _id: 3, name: 'edsger' },
  ],
  audit_a: [
    { _id: 1, at: 'backup' },
    { _id: 2, at: 'backup' },
  ],
  audit_b: [{ _id: 1, at: 'backup' }],
  orders: [{ _id: 1, total: 10 }],
});

/** What it holds by the restore: every collection changed since, and one more. */
const NOW = mongodumpArchive('test', {
  users: [{ _id: 9, name: 'mallory' }],
  audit_a: [
    { _id: 1, at: 'now' },
    { _id: 2, at: 'now' },
    { _id: 3, at: 'now' },
  ],
  audit_b: [
    { _id: 5, at: 'now' },
    { _id: 6, at: 'now' },
  ],
  orders: [
    { _id: 1, total: 10 },
    { _id: 2, total: 20 },
  ],
  sessions: [{ _id: 'abc' }],
});

function run(dir: string, args: string[]) {
  return runCli([...args, '--container', `mongodb=${mongo}`], { cwd: dir, env: engineEnv() });
}

async function project(): Promise<string> {
  const dir = await makeProject({ keys: false });
  await writeDotenv(dir, { MONGO_DATABASE: 'test' });
  return dir;
}

async function serverHolds(archive: Buffer): Promise<void> {
  const script = `rm -f /stand-in/server.archive* && echo ${archive.toString('base64')} | busybox base64 -d > /stand-in/server.archive`;
  await execText(stack, mongo, ['sh', '-c', script]);
}

async function server(): Promise<Record<string, string>> {
  return namespaceHashes(await readContainerFile(stack, mongo, '/stand-in/server.archive'));
}

async function calls(): Promise<string[]> {
  return (await execText(stack, mongo, ['cat', '/stand-in/calls.log'])).trim().split('\n');
}

/** An archive of AT_BACKUP; the server then holds NOW. */
async function backupThenChange(): Promise<{ dir: string; archive: string }> {
  await serverHolds(AT_BACKUP);
  const dir = await project();
  const backup = await run(dir, ['backup', '-c', 'mongodb', '-y']);
  expect(backup.code).toBe(0);
  await serverHolds(NOW);
  return { dir, archive: backup.stdout.trim() };
}

const backupHashes = namespaceHashes(AT_BACKUP);
const nowHashes = namespaceHashes(NOW);

/** The upstream mongo image has no stand-in server file to compare: these run on the STAND-INS only. */
const itStandIn = it.skipIf(imageMode === 'upstream');

describeEngine('MongoDB --ns and --to-database through the container [STAND-INS]', () => {
  itStandIn(
    '--ns users --ns test.audit_* restores exactly those collections: every other one byte-identical, only they kept first [STAND-IN]',
    async () => {
      const { dir, archive } = await backupThenChange();
      const before = (await calls()).length;
      const result = await run(dir, ['restore', archive, '--ns', 'users', '--ns', 'test.audit_*', '-y']);
      expect(result.stderr).not.toContain('FAILED');
      expect(result.code).toBe(0);
      expect(await server()).toEqual({
        'test.users': backupHashes['test.users'],
        'test.audit_a': backupHashes['test.audit_a'],
        'test.audit_b': backupHashes['test.audit_b'],
        'test.orders': nowHashes['test.orders'],
        'test.sessions': nowHashes['test.sessions'],
      });
      const made = (await calls()).slice(before);
      expect(made.find((line) => line.startsWith('mongodump'))).toMatch(
        /^mongodump --db=test --archive --gzip --excludeCollection=orders --excludeCollection=sessions /,
      );
      expect(made.find((line) => line.startsWith('mongorestore --drop'))).toMatch(
        /^mongorestore --drop --archive --nsInclude=test\.users --nsInclude=test\.audit_a --nsInclude=test\.audit_b --username/,
      );
      // The kept copy holds the selected collections as they were, and nothing else.
      const aside = (await readdir(join(dir, 'docker'))).find((name) => name.startsWith('.pre-restore-'))!;
      const keptFolder = join(dir, 'docker', aside, 'mongodb');
      const [keptFile] = await readdir(keptFolder);
      expect(namespaceHashes(gunzipSync(await readFile(join(keptFolder, keptFile))))).toEqual({
        'test.users': nowHashes['test.users'],
        'test.audit_a': nowHashes['test.audit_a'],
        'test.audit_b': nowHashes['test.audit_b'],
      });
    },
  );

  itStandIn(
    'the dry run of --ns counts, per collection, the documents in the archive and those there now, and changes nothing [STAND-IN]',
    async () => {
      const { dir, archive } = await backupThenChange();
      const result = await run(dir, ['restore', archive, '--ns', 'users', '--ns', 'audit_*', '--dry-run']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('--ns users: 1 collection');
      expect(result.stdout).toContain('test.users: 3 documents in the archive; 1 document now (dropped and restored)');
      expect(result.stdout).toContain('--ns audit_*: 2 collections');
      expect(result.stdout).toContain('test.audit_a: 2 documents in the archive; 3 documents now (dropped and restored)');
      expect(result.stdout).toContain('test.audit_b: 1 document in the archive; 2 documents now (dropped and restored)');
      expect(result.stdout).toContain('2 other collections of test left as they are: orders, sessions');
      expect(result.stdout).toContain('1 namespace of the archive not selected, not restored: test.orders');
      const json = await run(dir, ['restore', archive, '--ns', 'users', '--ns', 'audit_*', '--dry-run', '--json']);
      expect(JSON.parse(json.stdout).components[0].selection).toEqual({
        totals: '3 collections holding 6 documents in the archive; 3 there now holding 6 documents (dropped and restored), 0 new',
      });
      expect(await server()).toEqual(nowHashes);
    },
  );

  itStandIn(
    'a restore of --ns that fails midway puts the kept collections back, naming the kept copy; the others never changed [STAND-IN]',
    async () => {
      const { dir, archive } = await backupThenChange();
      await execText(stack, mongo, ['sh', '-c', 'echo 2 > /stand-in/fail-restore-once']);
      const result = await run(dir, ['restore', archive, '--ns', 'audit_*', '--ns', 'users', '-y']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /E11000 duplicate key error — the kept copy of the selected collections of database test was put back from \S+\.pre-restore-\d{8}-\d{6}\/mongodb\/\S+\.archive\.gz\./,
      );
      expect(await server()).toEqual(nowHashes);
    },
  );

  itStandIn('a --ns that matches nothing exits 2 naming it, before anything runs [STAND-IN]', async () => {
    const { dir, archive } = await backupThenChange();
    const before = (await calls()).length;
    const result = await run(dir, ['restore', archive, '--ns', 'users', '--ns', 'test.billing_*', '-y']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--ns test.billing_* matches no collection of mongodb in ${archive.split('/').at(-1)}`);
    expect((await calls()).slice(before)).toEqual([]);
    expect(await server()).toEqual(nowHashes);
  });

  itStandIn(
    '--to-database restores beside: the live database identical, the copy holds the archive; a second run refuses to overwrite it [STAND-IN]',
    async () => {
      const { dir, archive } = await backupThenChange();
      const dryRun = await run(dir, ['restore', archive, '--ns', 'users', '--to-database', 'compare', '--dry-run']);
      expect(dryRun.code).toBe(0);
      expect(dryRun.stdout).toContain('beside: into database compare; the live database test is not touched');
      expect(dryRun.stdout).toContain('compare.users: 3 documents in the archive; not there now (created)');
      expect(dryRun.stdout).toContain(
        'only the selection — 1 collection holding 3 documents in the archive, all new; written into database compare, the live target is not touched',
      );
      const json = await run(dir, ['restore', archive, '--ns', 'users', '--to-database', 'compare', '--dry-run', '--json']);
      expect(JSON.parse(json.stdout).components[0]).toMatchObject({
        replaces: [],
        selection: { totals: '1 collection holding 3 documents in the archive, all new', beside: 'database compare' },
      });
      const before = (await calls()).length;
      const result = await run(dir, ['restore', archive, '--ns', 'users', '--to-database', 'compare', '-y']);
      expect(result.stderr).not.toContain('FAILED');
      expect(result.code).toBe(0);
      const after = await server();
      expect(Object.keys(after).filter((name) => name.startsWith('compare.'))).toEqual(['compare.users']);
      expect(after['compare.users']).toBe(backupHashes['test.users']);
      expect(Object.fromEntries(Object.entries(after).filter(([name]) => name.startsWith('test.')))).toEqual(nowHashes);
      // Nothing is dropped, so nothing is kept.
      expect((await calls()).slice(before).filter((line) => line.startsWith('mongodump'))).toEqual([]);
      expect(await readdir(join(dir, 'docker'))).not.toContainEqual(expect.stringMatching(/^\.pre-restore-/));

      const again = await run(dir, ['restore', archive, '--ns', 'users', '--to-database', 'compare', '-y']);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('--to-database compare already holds users: a restore beside never drops or overwrites a collection');
      const live = await run(dir, ['restore', archive, '--to-database', 'test', '-y']);
      expect(live.code).toBe(2);
      expect(live.stderr).toContain('--to-database test is the live database (MONGO_DATABASE)');
      expect(await server()).toEqual(after);
    },
  );

  itStandIn('--to-database that fails midway drops what it began there; the live database identical [STAND-IN]', async () => {
    const { dir, archive } = await backupThenChange();
    await execText(stack, mongo, ['sh', '-c', 'echo 4 > /stand-in/fail-restore-once']);
    const result = await run(dir, ['restore', archive, '--to-database', 'beside_fail', '-y']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /what it had restored into database beside_fail was dropped \(users, audit_a, audit_b, orders\); the live database was not touched\./,
    );
    expect(await server()).toEqual(nowHashes);
  });

  itStandIn('--ns names a time-series collection by its own name and takes its buckets with it [STAND-IN]', async () => {
    await execText(stack, mongo, [
      'sh',
      '-c',
      'rm -f /stand-in/server.archive* && cp /stand-in/timeseries.archive /stand-in/server.archive',
    ]);
    const dir = await makeProject({ keys: false });
    await writeDotenv(dir, { MONGO_DATABASE: 'timeseries_test' });
    const backup = await run(dir, ['backup', '-c', 'mongodb', '-y']);
    expect(backup.code).toBe(0);
    const before = await server();
    const result = await run(dir, ['restore', backup.stdout.trim(), '--ns', 'foo_ts', '--to-database', 'ts_copy', '-y']);
    expect(result.stderr).not.toContain('FAILED');
    expect(result.code).toBe(0);
    const after = await server();
    expect(
      Object.keys(after)
        .filter((name) => name.startsWith('ts_copy.'))
        .sort(),
    ).toEqual(['ts_copy.foo_ts', 'ts_copy.system.buckets.foo_ts']);
    expect(after['ts_copy.system.buckets.foo_ts']).toBe(before['timeseries_test.system.buckets.foo_ts']);
    expect(after['ts_copy.system.buckets.foo_ts']).toMatch(/^10 /);
  });
});
