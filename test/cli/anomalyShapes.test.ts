import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/archive/reader.js';
import { runCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, imageMode, writeDotenv } from '../helpers/engine.js';
import { recordedBackup, type BackupJson } from '../helpers/history.js';
import { standInState, startHostMongo, type HostMongo } from '../helpers/hostMongo.js';
import { writeCountedDump } from '../helpers/mongodumps.js';
import { makeProject } from '../helpers/project.js';
import { deleteObject, putObject, s3Client, seed } from '../helpers/s3.js';
import { startS3, uniqueName, type StackContext } from '../engine/stack.js';

/**
 * Anomaly checks on what the object store and MongoDB held: objects per bucket (s3rver offline,
 * MinIO upstream, in the engine) and documents per collection (the mongodump STAND-IN through
 * MONGO_URI, its dump counted as it streams into the archive).
 */
const ACCESS = 'orkestra-access';
const SECRET = 'orkestra-secret-Kw93';
const containers = new Containers();
let stack: StackContext;
let mongo: HostMongo;

beforeAll(async () => {
  mongo = await startHostMongo('anomaly-mongo-pw');
});
afterAll(async () => {
  await containers.removeAll();
  await mongo?.server.stop();
});

async function parsedBackup(project: string, args: string[], env: NodeJS.ProcessEnv) {
  const run = await runCli(['backup', '-y', '--json', ...args], { cwd: project, env, timeoutMs: 300_000 });
  expect(run.stderr).not.toContain('FAILED');
  const json = JSON.parse(run.stdout) as BackupJson;
  // The history holds the record the next backup's baseline is chosen from, with these anomalies.
  expect((await recordedBackup(project, json)).anomalies ?? []).toEqual(json.anomalies);
  return { ...run, json };
}

describeEngine(`anomaly checks of the object store (${imageMode === 'upstream' ? 'MinIO' : 's3rver'})`, () => {
  beforeAll(() => {
    stack = engineStack();
  });

  it(
    "deleting 60 % of a bucket's objects is an anomaly (exit 0; exit 1 with --fail-on-anomaly, the archive kept); normal growth is not",
    { timeout: 300_000 },
    async () => {
      const container = containers.track(await startS3(stack, uniqueName('okb-anomaly'), { accessKey: ACCESS, secretKey: SECRET }));
      const project = await makeProject({ keys: false });
      const env: Record<string, string> = { RUSTFS_ACCESS_KEY: ACCESS, RUSTFS_SECRET_KEY: SECRET };
      if (imageMode !== 'upstream') env.RUSTFS_ENDPOINT = container.endpoint;
      await writeDotenv(project, env);
      const client = s3Client(container.endpoint, ACCESS, SECRET);
      const upload = (key: string) => ({ bucket: 'uploads', key, body: Buffer.from(`file ${key}\n`), contentType: 'text/plain' });
      await seed(
        client,
        ['uploads', 'avatars'],
        [...Array.from({ length: 10 }, (_, n) => upload(`u${n}.txt`)), { ...upload('a.png'), bucket: 'avatars' }],
      );
      const backup = (extra: string[] = []) =>
        parsedBackup(project, ['-c', 'rustfs', '--container', `rustfs=${container.name}`, ...extra], engineEnv());

      const first = await backup();
      expect(first.code).toBe(0);
      const { manifest } = await readManifest(first.json.archive);
      expect(manifest.shape?.components.rustfs).toEqual({
        items: 'objects',
        group: 'bucket',
        groups: { avatars: { items: 1, bytes: 11 }, uploads: { items: 10, bytes: 120 } },
      });

      for (const key of ['b.png', 'c.png']) await putObject(client, { ...upload(key), bucket: 'avatars' });
      const grown = await backup();
      expect(grown.json.anomalies).toEqual([]);
      expect(grown.json.baseline).toBe(first.json.archive);

      for (let n = 0; n < 6; n += 1) await deleteObject(client, 'uploads', `u${n}.txt`);
      const lost = await backup();
      expect(lost.code).toBe(0);
      expect(lost.json.anomalies).toContainEqual({
        component: 'rustfs',
        kind: 'shrunk',
        message: 'rustfs: bucket uploads lost 60 % of its objects (10 → 4)',
      });
      expect(lost.stderr).toContain('ANOMALY');

      const failing = await backup(['--fail-on-anomaly']);
      expect(failing.code).toBe(1);
      expect(failing.json.baseline).toBe(grown.json.archive);
      expect(failing.stderr).toContain('the archive is kept');
      expect(existsSync(failing.json.archive)).toBe(true);
    },
  );
});

describe('anomaly checks of MongoDB (the mongodump STAND-IN through MONGO_URI; CongoDB answers the driver)', () => {
  it('STAND-IN: an emptied collection and a vanished one are anomalies; a growing one is not; documents per collection are in the manifest', async () => {
    const state = await standInState();
    const project = await mongo.project(mongo.uri);
    const env = {
      MONGO_STANDIN_STATE: state,
      MONGO_INITDB_ROOT_USERNAME: 'root',
      MONGO_INITDB_ROOT_PASSWORD: 'anomaly-mongo-pw',
      DOCKER_HOST: 'unix:///nonexistent.sock',
    };
    const serverData = join(state, 'server.archive');
    await writeCountedDump(serverData, 'test', { users: 12, jobs: 3, audit: 4 });
    const first = await parsedBackup(project, ['-c', 'mongodb'], env);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('database test, 3 collections');
    expect((await readManifest(first.json.archive)).manifest.shape?.components.mongodb).toEqual({
      items: 'documents',
      group: 'collection',
      groups: {
        'test.users': { items: 12, bytes: expect.any(Number) },
        'test.jobs': { items: 3, bytes: expect.any(Number) },
        'test.audit': { items: 4, bytes: expect.any(Number) },
      },
    });

    await writeCountedDump(serverData, 'test', { users: 0, jobs: 30 });
    const emptied = await parsedBackup(project, ['-c', 'mongodb'], env);
    expect(emptied.code).toBe(0);
    expect(emptied.json.anomalies.map((anomaly) => anomaly.message)).toEqual([
      'mongodb: collection test.users lost all of its documents (12 → 0)',
      'mongodb: collection test.audit is gone (had 4 documents)',
    ]);

    await writeCountedDump(serverData, 'test', { users: 13, jobs: 31, audit: 4 });
    const recovered = await parsedBackup(project, ['-c', 'mongodb'], env);
    expect(recovered.json.anomalies).toEqual([]);
    expect(recovered.json.baseline).toBe(first.json.archive);
  });
});
