import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, imageMode, writeDotenv } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { temporaryFolder } from '../helpers/tempFolders.js';
import { copyIntoContainer } from '../../bench/dataset.js';
import { mongodumpArchive, namespaceHashes } from '../helpers/mongoNamespaces.js';
import { execText, readContainerFile, startMongo, uniqueName, type StackContext } from '../engine/stack.js';

/**
 * What a restore of a selection (`--ns`) streams into mongorestore: the stand-in records every
 * byte it receives (/stand-in/last-restore.in), so the test sees the selected collection alone
 * went in, not the whole dump.
 */
const containers = new Containers();
let stack: StackContext;
let mongo: string;

beforeAll(async () => {
  stack = engineStack();
  mongo = containers.track(await startMongo(stack, uniqueName('okb-mongo-stream'), { rootUser: 'root', rootPassword: 'stream-pw' })).name;
});
afterAll(() => containers.removeAll());

/** A small users collection beside a large events one (incompressible: gzip cannot hide its size). */
const AT_BACKUP = mongodumpArchive('test', {
  events: Array.from({ length: 150 }, (_, index) => ({ _id: index, payload: randomBytes(160).toString('hex') })),
  users: [
    { _id: 1, name: 'ada' },
    { _id: 2, name: 'grace' },
  ],
  orders: Array.from({ length: 20 }, (_, index) => ({ _id: index, note: randomBytes(40).toString('hex') })),
});
const NOW = mongodumpArchive('test', {
  events: [{ _id: 'now' }],
  users: [{ _id: 9, name: 'mallory' }],
  orders: [{ _id: 'now' }],
});

function run(dir: string, args: string[]) {
  return runCli([...args, '--container', `mongodb=${mongo}`], { cwd: dir, env: engineEnv() });
}

async function serverHolds(archive: Buffer): Promise<void> {
  const file = join(await temporaryFolder('okb-mongo-server-'), 'server.archive');
  await writeFile(file, archive);
  await execText(stack, mongo, ['sh', '-c', 'rm -f /stand-in/server.archive*']);
  await copyIntoContainer(stack, mongo, '/stand-in', 'server.archive', file);
}

const itStandIn = it.skipIf(imageMode === 'upstream');

describeEngine('MongoDB --ns streams only the selected collection into mongorestore [STAND-INS]', () => {
  itStandIn(
    'restore --ns users feeds mongorestore only the prelude and segments of users, a fraction of the dump, and restores it [STAND-IN]',
    async () => {
      await serverHolds(AT_BACKUP);
      const dir = await makeProject({ keys: false });
      await writeDotenv(dir, { MONGO_DATABASE: 'test' });
      const backup = await run(dir, ['backup', '-c', 'mongodb', '-y']);
      expect(backup.code).toBe(0);
      const archive = backup.stdout.trim();
      await serverHolds(NOW);

      const result = await run(dir, ['restore', archive, '--ns', 'users', '-y']);
      expect(result.stderr).not.toContain('FAILED');
      expect(result.code).toBe(0);

      const dump = execFileSync('tar', ['xzOf', archive, '--wildcards', 'mongodb/dump/part-*']);
      const received = await readContainerFile(stack, mongo, '/stand-in/last-restore.in');
      // Every namespace the stream names, metadata included: users alone, its documents as backed up.
      const backedUp = namespaceHashes(AT_BACKUP);
      expect(namespaceHashes(received)).toEqual({ 'test.users': backedUp['test.users'] });
      expect(received.length).toBeLessThan(dump.length / 10);
      const now = namespaceHashes(NOW);
      expect(namespaceHashes(await readContainerFile(stack, mongo, '/stand-in/server.archive'))).toEqual({
        'test.events': now['test.events'],
        'test.users': backedUp['test.users'],
        'test.orders': now['test.orders'],
      });
    },
  );

  itStandIn(
    "a corrupt member in another collection's parts stops verify and a whole restore (exit 2, server unchanged), not a restore of --ns users, which needs none of them [STAND-IN]",
    async () => {
      // Random payloads are stored, not deflated: a sample of them is found verbatim in the archive. 3 MiB span several 1 MiB members.
      const payloads = Array.from({ length: 3 }, () => randomBytes(1024 * 1024));
      const atBackup = mongodumpArchive('test', {
        events: payloads.map((payload, index) => ({ _id: index, payload })),
        users: [{ _id: 1, name: 'ada' }],
      });
      const now = mongodumpArchive('test', { events: [{ _id: 'now' }], users: [{ _id: 9, name: 'mallory' }] });
      await serverHolds(atBackup);
      const dir = await makeProject({ keys: false });
      await writeDotenv(dir, { MONGO_DATABASE: 'test' });
      const backup = await run(dir, ['backup', '-c', 'mongodb', '-y']);
      expect(backup.code).toBe(0);
      const archive = backup.stdout.trim();

      const bytes = await readFile(archive);
      const sample = payloads[1].subarray(500_000, 500_064);
      const at = bytes.indexOf(sample);
      expect(at).toBeGreaterThan(0);
      bytes[at + 10] ^= 0xff;
      await writeFile(archive, bytes);
      expect((await run(dir, ['verify', archive])).code).not.toBe(0);

      await serverHolds(now);
      const whole = await run(dir, ['restore', archive, '-y']);
      expect(whole.stderr).toContain('failed its check');
      expect(whole.code).toBe(2);
      expect(namespaceHashes(await readContainerFile(stack, mongo, '/stand-in/server.archive'))).toEqual(namespaceHashes(now));

      const picked = await run(dir, ['restore', archive, '--ns', 'users', '-y']);
      expect(picked.stderr).not.toContain('damaged');
      expect(picked.code).toBe(0);
      expect(namespaceHashes(await readContainerFile(stack, mongo, '/stand-in/server.archive'))).toEqual({
        'test.events': namespaceHashes(now)['test.events'],
        'test.users': namespaceHashes(atBackup)['test.users'],
      });
    },
  );
});
