import { hostname } from 'node:os';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { MongoArchiveReader } from '../../src/mongo/archive.js';
import { runCli, startCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, imageMode, writeDotenv } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { execText, readContainerFile, startMongo, uniqueName, type StackContext } from '../engine/stack.js';

/**
 * What a MongoDB restore leaves on the server when it fails, and what its dry run says --drop
 * leaves alone. The STAND-INS model the server's data as the namespaces of one mongodump archive
 * (/stand-in/server.archive): a restore drops and refills only the collections of its archive, one
 * that fails midway leaves the collections it began (partial), and mongosh lists and drops.
 */
const containers = new Containers();
let stack: StackContext;
let mongo: string;

beforeAll(async () => {
  stack = engineStack();
  mongo = containers.track(await startMongo(stack, uniqueName('okb-mongo'), { rootUser: 'root', rootPassword: 'put-back-pw' })).name;
});
afterAll(() => containers.removeAll());

function run(dir: string, args: string[]) {
  return runCli([...args, '--container', `mongodb=${mongo}`], { cwd: dir, env: engineEnv() });
}

async function project(database: string): Promise<string> {
  const dir = await makeProject({ keys: false });
  await writeDotenv(dir, { MONGO_DATABASE: database });
  return dir;
}

/** The server holds what a real mongodump wrote into one of the fixtures. */
async function serverHolds(fixture: 'test.bar.archive' | 'timeseries.archive'): Promise<void> {
  await execText(stack, mongo, ['sh', '-c', `rm -f /stand-in/server.archive* && cp /stand-in/${fixture} /stand-in/server.archive`]);
}

/** Every namespace on the server with its document count: "test.bar 1". */
async function serverNamespaces(): Promise<string[]> {
  const reader = new MongoArchiveReader();
  reader.push(await readContainerFile(stack, mongo, '/stand-in/server.archive'));
  const summary = reader.finish();
  expect(summary.problems).toEqual([]);
  return summary.namespaces.map((namespace) => `${namespace.db}.${namespace.collection} ${namespace.documents}`).sort();
}

async function calls(): Promise<string[]> {
  return (await execText(stack, mongo, ['cat', '/stand-in/calls.log'])).trim().split('\n');
}

async function backupOf(database: string): Promise<string> {
  const result = await run(await project(database), ['backup', '-c', 'mongodb', '-y']);
  expect(result.code).toBe(0);
  return result.stdout.trim();
}

/** Two archives: `test` (test.bar, 1 document) and `timeseries_test` (a time-series collection, its 10 bucket documents). */
async function archives(): Promise<{ bar: string; timeseries: string }> {
  await serverHolds('timeseries.archive');
  const timeseries = await backupOf('timeseries_test');
  await serverHolds('test.bar.archive');
  return { bar: await backupOf('test'), timeseries };
}

const BEFORE = ['admin.system.version 1', 'test.bar 1'];

describeEngine('MongoDB put-back and --drop, on the stand-in server', () => {
  it.skipIf(imageMode === 'upstream')(
    'a restore that fails midway is put back exactly: the collections it created, a partial one included, are dropped [STAND-IN]',
    async () => {
      const { timeseries } = await archives();
      expect(await serverNamespaces()).toEqual(BEFORE);
      // The time-series archive, remapped into test, creates test.foo_ts; it fails after 4 of its 10 bucket documents.
      await execText(stack, mongo, ['sh', '-c', 'echo 4 > /stand-in/fail-restore-once']);
      const before = (await calls()).length;
      const result = await run(await project('test'), ['restore', timeseries, '-y']);
      expect(result.code).toBe(1);
      expect(await serverNamespaces()).toEqual(BEFORE);
      expect(result.stderr).toMatch(
        /E11000 duplicate key error — the previous data of database test was put back from \S+\.pre-restore-\d{8}-\d{6}\/mongodb\/\S+ \(foo_ts, created by the failed restore, dropped\)\./,
      );
      // The plan (mongorestore --dryRun, the shell listing), the kept dump, the restore; then the drop
      // through the container's shell before the kept dump goes back. The shell's script file is gone.
      const newCalls = (await calls()).slice(before).map((line) => line.split(' ').slice(0, 2).join(' '));
      expect(newCalls).toEqual([
        'mongorestore --dryRun',
        'mongosh --quiet',
        'mongodump --db=test',
        'mongorestore --drop',
        'mongosh --quiet',
        'mongorestore --drop',
      ]);
      expect(await execText(stack, mongo, ['sh', '-c', 'ls -a /tmp'])).not.toContain('.orkestra-backup-');
    },
  );

  it.skipIf(imageMode === 'upstream')(
    'a mongorestore killed by SIGKILL is said to be, and its partial collection is dropped on put-back [STAND-IN]',
    async () => {
      const { timeseries } = await archives();
      await execText(stack, mongo, ['sh', '-c', 'echo 3 > /stand-in/kill-restore-once']);
      const result = await run(await project('test'), ['restore', timeseries, '-y']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/mongorestore was killed by SIGKILL: .* — the previous data of database test was put back/);
      expect(result.stderr).not.toContain('exited with code');
      expect(await serverNamespaces()).toEqual(BEFORE);
    },
  );

  it.skipIf(imageMode === 'upstream')(
    'a server that goes away midway is said in words, with the documents restored by then, not as a failure to connect [STAND-IN]',
    async () => {
      const { timeseries } = await archives();
      await execText(stack, mongo, ['sh', '-c', 'echo 6 > /stand-in/server-gone-once']);
      const result = await run(await project('test'), ['restore', timeseries, '-y']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /mongorestore stopped: the MongoDB server in \S+ went away after 6 documents: Failed: test\.system\.buckets\.foo_ts: .*connection refused/,
      );
      expect(result.stderr).not.toContain('could not connect');
      expect(result.stderr).not.toContain('document(s) restored successfully');
      expect(await serverNamespaces()).toEqual(BEFORE);
    },
  );

  it.skipIf(imageMode === 'upstream')(
    'the dry run names the collections of the target that the dump lacks: --drop leaves them as they are [STAND-IN]',
    async () => {
      const { bar, timeseries } = await archives();
      const target = await project('test');
      const merged = await run(target, ['restore', timeseries, '-y', '--no-keep-mongodb']);
      expect(merged.code).toBe(0);
      expect(await serverNamespaces()).toEqual([...BEFORE, 'test.foo_ts 0', 'test.system.buckets.foo_ts 10']);
      const dryRun = await run(target, ['restore', bar, '--dry-run']);
      expect(dryRun.code).toBe(0);
      expect(dryRun.stdout).toMatch(
        /1 collection of test absent from the dump is left as it is by --drop \(with the shell in \S+\): foo_ts/,
      );
      const other = await run(target, ['restore', timeseries, '--dry-run']);
      expect(other.stdout).toMatch(/1 collection of test absent from the dump is left as it is by --drop \(with the shell in \S+\): bar/);
      expect(await serverNamespaces()).toEqual([...BEFORE, 'test.foo_ts 0', 'test.system.buckets.foo_ts 10']);
    },
  );

  it.skipIf(imageMode === 'upstream')(
    "the login files a killed run left in the container's /tmp are removed by the next run; a live run's and another host's stay [STAND-IN]",
    async () => {
      const host = hostname().replace(/[^A-Za-z0-9]/g, '_');
      // A pid no process has (above any pid_max), this test's own (alive), and a file from another host.
      const dead = [
        `/tmp/.orkestra-backup-${host}-2147483646-0123456789ab.yaml`,
        `/tmp/.orkestra-backup-${host}-2147483645-ba9876543210.js`,
      ];
      const live = `/tmp/.orkestra-backup-${host}-${process.pid}-00aa00aa00aa.yaml`;
      const other = `/tmp/.orkestra-backup-${host}x-2147483646-0123456789ab.yaml`;
      await execText(stack, mongo, ['sh', '-c', `touch ${[...dead, live, other].join(' ')}`]);
      const { bar } = await archives();
      const dryRun = await run(await project('test'), ['restore', bar, '--dry-run']);
      expect(dryRun.code).toBe(0);
      const left = (await execText(stack, mongo, ['ls', '-a', '/tmp'])).split('\n').filter((name) => name.startsWith('.orkestra-backup-'));
      expect(left.sort()).toEqual([live, other].map((path) => path.slice('/tmp/'.length)).sort());
      await execText(stack, mongo, ['rm', '-f', live, other]);
    },
  );

  it.skipIf(imageMode === 'upstream')(
    'SIGINT during mongorestore: the put-back waits for the interrupted mongorestore to exit, then puts the previous namespaces back [STAND-IN]',
    async () => {
      const { timeseries } = await archives();
      await execText(stack, mongo, ['sh', '-c', 'echo 2 > /stand-in/hold-restore-once']);
      const before = (await calls()).length;
      const cli = startCli(['restore', timeseries, '-y', '--container', `mongodb=${mongo}`], {
        cwd: await project('test'),
        env: engineEnv(),
      });
      await vi.waitFor(async () => expect(await execText(stack, mongo, ['ls', '/stand-in'])).toContain('restore-held'), {
        timeout: 60_000,
        interval: 50,
      });
      cli.signal('SIGINT');
      await cli.waitForStderr(/SIGINT received/);
      // The interrupted mongorestore is still inside an insert: nothing may touch the server before it exits.
      await execText(stack, mongo, ['touch', '/stand-in/release']);
      const result = await cli.result;
      const after = (await calls()).slice(before).map((line) => line.split(' ').slice(0, 2).join(' '));
      // The put-back's mongorestore comes after the interrupted one's exit, and the shell's drop before it.
      expect(after.indexOf('mongorestore exited')).toBeGreaterThan(0);
      expect(after.lastIndexOf('mongorestore --drop')).toBeGreaterThan(after.indexOf('mongorestore exited'));
      expect(after.slice(2)).toEqual([
        'mongodump --db=test',
        'mongorestore --drop',
        'mongorestore exited',
        'mongosh --quiet',
        'mongorestore --drop',
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /the MongoDB restore was interrupted by SIGINT \(mongorestore exited with code 1\) — the previous data of database test was put back from \S+ \(foo_ts, created by the failed restore, dropped\)\./,
      );
      expect(await serverNamespaces()).toEqual(BEFORE);
    },
  );
});
