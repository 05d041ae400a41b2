import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { standInEnv, standInState, startHostMongo, type HostMongo } from '../helpers/hostMongo.js';
import { mongodumpArchive, namespaceHashes } from '../helpers/mongoNamespaces.js';
import { manifestFor, writeRawArchive } from '../helpers/archives.js';

/**
 * `--ns` and `--to-database` through MONGO_URI: the mongodump/mongorestore STAND-INS run on the
 * host (their "server" is the archive of a state folder), and what the tool asks through the
 * driver — listing, counting, dropping — goes to CongoDB, a MongoDB wire-protocol server in
 * TypeScript (not MongoDB). CongoDB holds what the live database holds now.
 */
let mongo: HostMongo;
let client: MongoClient;

const AT_BACKUP = mongodumpArchive('test', {
  users: [{ _id: 1 }, { _id: 2 }, { _id: 3 }],
  audit_a: [{ _id: 1 }, { _id: 2 }],
  audit_b: [{ _id: 1 }],
  orders: [{ _id: 1 }],
});
const NOW = mongodumpArchive('test', {
  users: [{ _id: 9 }],
  audit_a: [{ _id: 1 }, { _id: 2 }, { _id: 3 }],
  orders: [{ _id: 1 }, { _id: 2 }],
  sessions: [{ _id: 'abc' }],
});

beforeAll(async () => {
  mongo = await startHostMongo('pick-host-pw');
  client = new MongoClient(`mongodb://127.0.0.1:${mongo.server.port}/?directConnection=true`);
  await client.connect();
  const test = client.db('test');
  await test.collection('users').insertOne({ n: 9 });
  await test.collection('audit_a').insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
  await test.collection('orders').insertMany([{ n: 1 }, { n: 2 }]);
  await test.collection('sessions').insertOne({ n: 'abc' });
  await client.db('compare').collection('users').insertOne({ n: 'earlier' });
});
afterAll(async () => {
  await client?.close();
  await mongo?.server.stop();
});

async function backupThenChange(): Promise<{ state: string; project: string; env: NodeJS.ProcessEnv; archive: string }> {
  const state = await standInState();
  await writeFile(join(state, 'server.archive'), AT_BACKUP);
  const project = await mongo.project(`mongodb://127.0.0.1:${mongo.server.port}/?directConnection=true`);
  const env = standInEnv(state);
  const backup = await runCli(['backup', '-c', 'mongodb', '-y'], { cwd: project, env });
  expect(backup.code).toBe(0);
  await writeFile(join(state, 'server.archive'), NOW);
  return { state, project, env, archive: backup.stdout.trim() };
}

describe('--ns and --to-database through MONGO_URI (STAND-INS for the tools, CongoDB for the driver)', () => {
  it('CongoDB: the dry run counts each selected collection now through the driver; the restore keeps and restores only them (STAND-IN)', async () => {
    const { state, project, env, archive } = await backupThenChange();
    const args = ['restore', archive, '--ns', 'users', '--ns', 'audit_*'];
    const dryRun = await runCli([...args, '--dry-run'], { cwd: project, env });
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('test.users: 3 documents in the archive; 1 document now (dropped and restored)');
    expect(dryRun.stdout).toContain('test.audit_a: 2 documents in the archive; 3 documents now (dropped and restored)');
    expect(dryRun.stdout).toContain('test.audit_b: 1 document in the archive; not there now (created)');
    expect(dryRun.stdout).toContain('2 other collections of test left as they are: orders, sessions');

    const restore = await runCli([...args, '-y'], { cwd: project, env });
    expect(restore.stderr).not.toContain('FAILED');
    expect(restore.code).toBe(0);
    const calls = (await readFile(join(state, 'calls.log'), 'utf8')).split('\n');
    expect(calls.filter((line) => line.startsWith('mongodump')).at(-1)).toMatch(
      /^mongodump --db=test --archive --gzip --excludeCollection=orders --excludeCollection=sessions --config=/,
    );
    expect(calls.filter((line) => line.startsWith('mongorestore --drop')).at(-1)).toMatch(
      /^mongorestore --drop --archive --nsInclude=test\.users --nsInclude=test\.audit_a --nsInclude=test\.audit_b --config=/,
    );
    const [before, after, backedUp] = [
      namespaceHashes(NOW),
      namespaceHashes(await readFile(join(state, 'server.archive'))),
      namespaceHashes(AT_BACKUP),
    ];
    expect(after).toEqual({
      'test.users': backedUp['test.users'],
      'test.audit_a': backedUp['test.audit_a'],
      'test.audit_b': backedUp['test.audit_b'],
      'test.orders': before['test.orders'],
      'test.sessions': before['test.sessions'],
    });
  });

  it('CongoDB: --to-database refuses a database the driver finds holding a selected collection, exit 1, nothing run (STAND-IN)', async () => {
    const { state, project, env, archive } = await backupThenChange();
    const restore = await runCli(['restore', archive, '--ns', 'users', '--to-database', 'compare', '-y'], { cwd: project, env });
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain('--to-database compare already holds users: a restore beside never drops or overwrites a collection');
    const calls = await readFile(join(state, 'calls.log'), 'utf8');
    expect(calls).not.toMatch(/^mongorestore --drop/m);
    expect(
      await client
        .db('compare')
        .collection('users')
        .find({}, { projection: { _id: 0 } })
        .toArray(),
    ).toEqual([{ n: 'earlier' }]);
  });

  it("CongoDB: the dry run of --ns counts the archive's documents from the manifest's shape, reading none of the dump's documents; without a shape it reads them (STAND-IN)", async () => {
    const state = await standInState();
    const project = await mongo.project(`mongodb://127.0.0.1:${mongo.server.port}/?directConnection=true`);
    const env = standInEnv(state);
    const intact = AT_BACKUP;
    // The same prelude, then a document length no reader accepts: reading a document fails.
    const unreadable = Buffer.concat([intact.subarray(0, preludeLength(intact)), Buffer.from([0xff, 0xff, 0xff, 0x7f])]);
    const shape = {
      items: 'documents',
      group: 'collection',
      groups: { 'test.users': { items: 3 }, 'test.audit_a': { items: 2 }, 'test.audit_b': { items: 1 }, 'test.orders': { items: 1 } },
    };
    const archive = async (name: string, dump: Buffer, withShape: boolean) => {
      const files = [
        { path: 'mongodb/database.txt', content: 'test\n' },
        { path: 'mongodb/mongo.archive.gz', content: gzipSync(dump) },
      ];
      const manifest = manifestFor(files, {
        components: ['mongodb'],
        details: { mongodb: { database: 'test' } },
        ...(withShape ? { shape: { components: { mongodb: shape } } } : {}),
      });
      const path = join(project, 'backups', name);
      await writeRawArchive(path, [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ...files]);
      return path;
    };
    const dryRun = (path: string) => runCli(['restore', path, '--ns', 'users', '--ns', 'audit_*', '--dry-run'], { cwd: project, env });

    const shaped = await dryRun(await archive('shaped.tar.gz', unreadable, true));
    expect(shaped.stderr).not.toContain('damaged');
    expect(shaped.code).toBe(0);
    expect(shaped.stdout).toContain('test.users: 3 documents in the archive; 1 document now (dropped and restored)');
    expect(shaped.stdout).toContain('test.audit_a: 2 documents in the archive; 3 documents now (dropped and restored)');
    expect(shaped.stdout).toContain('test.audit_b: 1 document in the archive; not there now (created)');
    expect(shaped.stdout).toContain('documents per collection as the backup counted them from the dump (manifest shape');

    const unshaped = await dryRun(await archive('unshaped.tar.gz', unreadable, false));
    expect(unshaped.code).toBe(2);
    expect(unshaped.stderr).toContain('mongodb/mongo.archive.gz is damaged: a document length of 2147483647 bytes is impossible');

    const counted = await dryRun(await archive('counted.tar.gz', intact, false));
    expect(counted.code).toBe(0);
    expect(counted.stdout).toContain('test.users: 3 documents in the archive; 1 document now (dropped and restored)');
    expect(counted.stdout).toContain('the whole dump was read by orkestra-backup: framing, BSON and the CRC-64 of 4 namespaces check out');
  });
});

/** The bytes of an uncompressed mongodump archive up to and with the prelude's terminator. */
function preludeLength(archive: Buffer): number {
  let offset = 4;
  for (;;) {
    const length = archive.readInt32LE(offset);
    if (length === -1) return offset + 4;
    offset += length;
  }
}
