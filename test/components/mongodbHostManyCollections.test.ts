import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { concurrentDump } from '../helpers/concurrentDump.js';
import { standInState, startHostMongo, type HostMongo, standInEnv } from '../helpers/hostMongo.js';

/**
 * A whole restore of a dump of more collections than mongorestore restores at once, each larger
 * than a part. The mongorestore STAND-IN fails where the real tool would wait forever: a
 * collection begun while as many are open as it restores at once.
 */
const PASSWORD = 'many-collections-pw';
let mongo: HostMongo;

beforeAll(async () => {
  mongo = await startHostMongo(PASSWORD);
});
afterAll(() => mongo?.server.stop());

describe('mongodb: a dump of many large collections (STAND-INS, no Docker)', () => {
  it('backup then a whole restore of 6 collections of 6 MiB, dumped 4 at a time, restores all of them [STAND-IN]', async () => {
    const state = await standInState();
    await writeFile(join(state, 'server.archive'), Buffer.concat(concurrentDump(6, 6000, 1000, 'test')));
    const project = await mongo.project(mongo.uri);
    const env = standInEnv(state, PASSWORD);
    const backup = await runCli(['backup', '-c', 'mongodb', '-y'], { cwd: project, env });
    expect(backup.code).toBe(0);
    const restore = await runCli(['restore', backup.stdout.trim(), '-y', '--no-keep-mongodb'], { cwd: project, env });
    expect(restore.stderr).not.toContain('waits forever');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/restored mongodb: 36,?000 documents into test/);
  }, 120_000);
});
