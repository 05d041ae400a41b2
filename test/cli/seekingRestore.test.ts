import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, imageMode, writeDotenv } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { deleteObject, s3Client, seed, snapshotStore } from '../helpers/s3.js';
import { startS3, uniqueName, type StackContext } from '../engine/stack.js';

/** Reads that start in the middle of a plain archive, against a real S3 protocol server (s3rver; MinIO with ORKESTRA_TEST_IMAGES=upstream). */
const ACCESS = 'seek-access';
const SECRET = 'seek-secret-Vb27';
const containers = new Containers();
let stack: StackContext;

beforeAll(() => {
  stack = engineStack();
});
afterAll(() => containers.removeAll());

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describeEngine('a selective restore reads the archive from where its files are', () => {
  it('decompresses only the members it reads: a corrupt member in objects before the picked ones stops verify and a whole restore, not a restore of the picked prefix', async () => {
    const container = containers.track(await startS3(stack, uniqueName('okb-seek'), { accessKey: ACCESS, secretKey: SECRET }));
    const project = await makeProject({ keys: false });
    await writeDotenv(project, {
      RUSTFS_ACCESS_KEY: ACCESS,
      RUSTFS_SECRET_KEY: SECRET,
      ...(imageMode === 'upstream' ? {} : { RUSTFS_ENDPOINT: container.endpoint }),
    });
    const client = s3Client(container.endpoint, ACCESS, SECRET);
    // Random bytes are stored, not deflated: a sample of them is found verbatim in the archive. 3 MiB spans several 1 MiB members.
    const big = randomBytes(3 * 1024 * 1024);
    await seed(
      client,
      ['big', 'zeta'],
      [
        { bucket: 'big', key: 'blob.bin', body: big },
        { bucket: 'zeta', key: 'keep/one.txt', body: Buffer.from('one\n'.repeat(40)) },
        { bucket: 'zeta', key: 'keep/two.txt', body: Buffer.from('two\n'.repeat(40)) },
      ],
    );
    const run = (args: string[]) =>
      runCli([...args, '--container', `rustfs=${container.name}`], { cwd: project, env: engineEnv(), timeoutMs: 300_000 });
    const backup = await run(['backup', '-c', 'rustfs', '-y']);
    expect(backup.code).toBe(0);
    const archive = backup.stdout.trim();

    // One byte changed in the blob's second megabyte: that member's CRC no longer matches.
    const bytes = await readFile(archive);
    const sample = big.subarray(1536 * 1024, 1536 * 1024 + 64);
    const at = bytes.indexOf(sample);
    expect(at).toBeGreaterThan(0);
    bytes[at + 10] ^= 0xff;
    await writeFile(archive, bytes);

    const verify = await run(['verify', archive]);
    expect(verify.code).not.toBe(0);

    await deleteObject(client, 'zeta', 'keep/one.txt');
    await deleteObject(client, 'zeta', 'keep/two.txt');
    const before = await snapshotStore(client);
    const whole = await run(['restore', archive, '-c', 'rustfs', '-y']);
    expect(whole.code).toBe(2);
    expect(whole.stderr).toContain('failed its check');
    expect(await snapshotStore(client)).toEqual(before);

    const picked = await run(['restore', archive, '--objects', 'zeta/keep/', '-y']);
    expect(picked.stderr).not.toContain('damaged');
    expect(picked.code).toBe(0);
    const after = await snapshotStore(client);
    expect(after['zeta/keep/one.txt']?.sha256).toBe(sha256('one\n'.repeat(40)));
    expect(after['zeta/keep/two.txt']?.sha256).toBe(sha256('two\n'.repeat(40)));
  });
});
