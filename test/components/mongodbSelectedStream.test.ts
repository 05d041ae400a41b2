import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, imageMode, writeDotenv } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
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
  const script = `rm -f /stand-in/server.archive* && echo ${archive.toString('base64')} | busybox base64 -d > /stand-in/server.archive`;
  await execText(stack, mongo, ['sh', '-c', script]);
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
});
