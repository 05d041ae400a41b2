import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, imageMode, writeDotenv } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { execText, startS3, uniqueName, type StackContext } from '../engine/stack.js';

const ACCESS = 'scale-access';
const SECRET = 'scale-secret-key';
const OBJECTS = 150_000;
/** A V8 heap far below what the v1 format needed here (its manifest alone was about 80 MB of JSON, parsed twice). */
const HEAP_LIMIT = '--max-old-space-size=160';

let stack: StackContext;
const containers = new Containers(() => stack);
beforeAll(() => {
  stack = engineStack();
});
afterAll(() => containers.removeAll());

/**
 * Writes the objects straight into the stand-in's s3rver folder (`<key>._S3rver_object` and its
 * `.md5`), 1,000 per folder: putting 150,000 objects through its HTTP API takes minutes, and
 * s3rver walks a whole folder on every listing page. The tool still reads them all over S3.
 */
const POPULATE = `
const fs = require('fs');
const crypto = require('crypto');
const [count, perFolder] = [Number(process.argv[1]), 1000];
for (let folder = 0; folder * perFolder < count; folder += 1) {
  const dir = '/data/scale/p' + String(folder).padStart(4, '0');
  fs.mkdirSync(dir, { recursive: true });
  for (let n = folder * perFolder; n < Math.min(count, (folder + 1) * perFolder); n += 1) {
    const file = dir + '/o' + String(n).padStart(7, '0') + '._S3rver_object';
    const body = 'object ' + n + '\\n';
    fs.writeFileSync(file, body);
    fs.writeFileSync(file + '.md5', crypto.createHash('md5').update(body).digest('hex'));
  }
}
console.log('populated ' + count);
`;

// Real RustFS keeps its own on-disk format, which this test cannot write directly.
describeEngine.skipIf(imageMode === 'upstream')('rustfs at scale (s3rver stand-in, objects written into its folder)', () => {
  it(`${OBJECTS.toLocaleString('en-US')} objects: backup, verify and dry run succeed with a ${HEAP_LIMIT} heap`, { timeout: 900_000 }, async () => {
    const container = containers.track(await startS3(stack, uniqueName('okb-scale'), { accessKey: ACCESS, secretKey: SECRET }));
    expect(await execText(stack, container.name, ['node', '-e', POPULATE, String(OBJECTS)])).toContain(`populated ${OBJECTS}`);
    const project = await makeProject({ keys: false });
    await writeDotenv(project, { RUSTFS_ACCESS_KEY: ACCESS, RUSTFS_SECRET_KEY: SECRET, RUSTFS_ENDPOINT: container.endpoint });
    const env = { ...engineEnv(), NODE_OPTIONS: HEAP_LIMIT };
    const run = (args: string[]) =>
      runCli([...args, '--container', `rustfs=${container.name}`], { cwd: project, env, timeoutMs: 600_000 });

    const backup = await run(['backup', '-c', 'rustfs', '-y']);
    expect(backup.stderr).toContain('1 bucket, 150,000 objects');
    expect(backup.code).toBe(0);
    const archive = backup.stdout.trim();

    const verify = await run(['verify', archive]);
    expect(verify.stdout).toContain('Result: sound.');
    expect(verify.stdout).toContain('scale  150,000 objects');
    expect(verify.code).toBe(0);

    const dryRun = await run(['restore', archive, '--dry-run']);
    expect(dryRun.stdout).toContain('Archive: 150,000 files, every SHA-256 verified');
    expect(dryRun.stdout).toContain('bucket scale: exists — 0 to add, 0 to overwrite, 150000 unchanged, 0 only in the target (kept)');
    expect(dryRun.code).toBe(0);
  });
});
