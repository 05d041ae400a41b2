import { execFileSync } from 'node:child_process';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { standInState, startHostMongo, type HostMongo, standInEnv } from '../helpers/hostMongo.js';

/**
 * MongoDB without Docker (MONGO_URI): the mongodump/mongorestore STAND-INS run on the host as the
 * host's tools (ORKESTRA_MONGO_TOOLS), and the driver's questions go to CongoDB, a MongoDB
 * wire-protocol server in TypeScript (not MongoDB; it answers PLAIN logins, and refuses a
 * password other than PASSWORD).
 */
const PASSWORD = 's3cr@t-host-pw';

/** Its `uri` has a password that the driver's login check passes (CongoDB) and the stand-ins check too. */
let mongo: HostMongo;

beforeAll(async () => {
  mongo = await startHostMongo(PASSWORD);
  const client = new MongoClient(`mongodb://127.0.0.1:${mongo.server.port}/?directConnection=true`);
  await client.connect();
  await client
    .db('test')
    .collection('bar')
    .insertMany([{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }, { a: 5 }]);
  await client.db('test').collection('not-in-the-dump').insertOne({ kept: true });
  await client.close();
});
afterAll(() => mongo?.server.stop());

describe('mongodb through MONGO_URI: the host tools (STAND-INS), no Docker', () => {
  it('backup runs the host mongodump with the whole URI in a private 0600 --config file: never on argv, removed after', async () => {
    const state = await standInState();
    const project = await mongo.project(mongo.uri);
    const env = standInEnv(state, PASSWORD);
    const backup = await runCli(['backup', '-c', 'mongodb', '-y'], { cwd: project, env });
    expect(backup.stderr).not.toContain('FAILED');
    expect(backup.code).toBe(0);
    expect(backup.stderr).toContain(`dumping database test on this host (MONGO_URI, 127.0.0.1:${mongo.server.port})`);
    expect(execFileSync('tar', ['tzf', backup.stdout.trim()], { encoding: 'utf8' })).toContain('mongodb/dump/part-00000000');
    const calls = await readFile(join(state, 'calls.log'), 'utf8');
    const dump = calls.split('\n').find((line) => line.startsWith('mongodump --db=test'))!;
    expect(dump).toMatch(/^mongodump --db=test --archive --config=\/\S+\/orkestra-mongo-\d+-[0-9a-f]{8}\/config\.yaml$/);
    expect(calls).not.toContain(PASSWORD);
    expect(calls).not.toContain(encodeURIComponent(PASSWORD));
    expect(await readFile(join(state, 'last-config.yaml'), 'utf8')).toBe(`uri: ${JSON.stringify(mongo.uri)}\n`);
    expect(existsSync(dump.split('--config=')[1])).toBe(false);
    for (const output of [backup.stdout, backup.stderr]) expect(output).not.toContain(encodeURIComponent(PASSWORD));
  });

  it('the dry run asks the server through the driver (version, what --drop replaces, also in what the gate lists), and the restore runs the host mongorestore', async () => {
    const state = await standInState();
    const project = await mongo.project(`mongodb://127.0.0.1:${mongo.server.port}/?directConnection=true`);
    const env = standInEnv(state);
    const backup = await runCli(['backup', '-c', 'mongodb', '-y'], { cwd: project, env });
    expect(backup.code).toBe(0);
    const dryRun = await runCli(['restore', backup.stdout.trim(), '--dry-run'], { cwd: project, env });
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toMatch(
      /the driver reached the server through MONGO_URI and logged in: MongoDB 7\.0\.0 \(the dump came from [\d.]+\)/,
    );
    expect(dryRun.stdout).toContain('drops 1 collection holding 5 documents of database test');
    expect(dryRun.stdout).toContain(
      '1 collection of test absent from the dump is left as it is by --drop (through the driver (MONGO_URI)): not-in-the-dump',
    );
    const json = await runCli(['restore', backup.stdout.trim(), '--dry-run', '--json'], { cwd: project, env });
    expect(JSON.parse(json.stdout).components[0].replaces).toEqual([
      expect.stringMatching(
        /^MongoDB on this host \(MONGO_URI, 127\.0\.0\.1:\d+\): drops 1 collection holding 5 documents of database test \(dropped and restored; /,
      ),
    ]);
    const restore = await runCli(['restore', backup.stdout.trim(), '-y', '--no-keep-mongodb'], { cwd: project, env });
    expect(restore.stderr).not.toContain('FAILED');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/restored mongodb: \d+ documents? into test/);
    expect(await readFile(join(state, 'calls.log'), 'utf8')).toMatch(/mongorestore --drop --archive --nsInclude=test\.\* --config=/);
  });

  it('a failed restore through MONGO_URI: the put-back drops through the driver what the failed restore created, and nothing else', async () => {
    const state = await standInState();
    const uri = `mongodb://127.0.0.1:${mongo.server.port}/?directConnection=true`;
    const env = standInEnv(state);
    // An archive of a time-series collection (the stand-in's server holds the fixture of a real mongodump).
    await copyFile(fileURLToPath(new URL('../fixtures/mongodump/timeseries.archive', import.meta.url)), join(state, 'server.archive'));
    const backup = await runCli(['backup', '-c', 'mongodb', '-y'], {
      cwd: await mongo.project(uri, ['MONGO_DATABASE=timeseries_test']),
      env,
    });
    expect(backup.code).toBe(0);
    await rm(join(state, 'server.archive'));
    // The stand-in mongorestore writes to its own files, not to CongoDB: the collection its failed
    // run would have begun on the server is made here, as that run would have left it.
    const client = new MongoClient(uri);
    await client.connect();
    try {
      await client.db('test').collection('foo_ts').insertOne({ partial: true });
      await writeFile(join(state, 'fail-restore-once'), '4');
      const restore = await runCli(['restore', backup.stdout.trim(), '-y'], { cwd: await mongo.project(uri), env });
      expect(restore.code).toBe(1);
      expect(restore.stderr).toMatch(
        /the previous data of database test was put back from \S+ \(foo_ts, created by the failed restore, dropped\)\./,
      );
      const names = (await client.db('test').listCollections({}, { nameOnly: true }).toArray()).map((entry) => entry.name).sort();
      expect(names).toEqual(['bar', 'not-in-the-dump']);
    } finally {
      await client.close();
    }
  });

  it('bad input: a malformed URI (exit 2, value never echoed), tools missing (named), a wrong password (names MONGO_URI)', async () => {
    const state = await standInState();
    const env = standInEnv(state);
    const malformed = await runCli(['backup', '-c', 'mongodb', '-y'], { cwd: await mongo.project('mongodb://root:hunter2@/nohost'), env });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/MONGO_URI is not a MongoDB connection string/);
    expect(malformed.stderr).not.toContain('hunter2');

    const noTools = await mongo.project(mongo.uri, ['ORKESTRA_MONGO_TOOLS=/nonexistent/mongo-tools']);
    const named = await runCli(['backup', '-c', 'mongodb', '-y'], { cwd: noTools, env });
    expect(named.code).toBe(1);
    expect(named.stderr).toMatch(/mongodump is not installed on this host \(ORKESTRA_MONGO_TOOLS=\/nonexistent\/mongo-tools\)/);
    const all = await runCli(['backup', 'all', '-y'], { cwd: noTools, env });
    expect(all.code).toBe(0);
    expect(all.stderr).toMatch(/mongodb.*mongodump is not installed on this host/);

    const wrong = await runCli(['backup', '-c', 'mongodb', '-y'], {
      cwd: await mongo.project(mongo.uri),
      env: { ...env, MONGO_INITDB_ROOT_USERNAME: 'root', MONGO_INITDB_ROOT_PASSWORD: 'the-real-one' },
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /could not log in to MongoDB on this host \(MONGO_URI, 127\.0\.0\.1:\d+\) as root.*Check the user and password in MONGO_URI/,
    );
    expect(wrong.stderr).not.toContain(encodeURIComponent(PASSWORD));
  });
});
