import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, imageMode, writeDotenv } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { fillStandInBucket, startS3, uniqueName, type StackContext } from '../engine/stack.js';

const ACCESS = 'scale-access';
const SECRET = 'scale-secret-key';
const OBJECTS = 150_000;
/** A V8 heap far below what the v1 format needed here (its manifest alone was about 80 MB of JSON, parsed twice). */
const HEAP_LIMIT = '--max-old-space-size=160';
// About 5 minutes on an idle 2-core machine; a busy one (a benchmark beside the suite) took three
// times longer, hence the generous limits: what this test proves is memory, not speed.

let stack: StackContext;
const containers = new Containers();
beforeAll(() => {
  stack = engineStack();
});
afterAll(() => containers.removeAll());

// Real RustFS keeps its own on-disk format, which this test cannot write directly: skipped with real images.
const describeStandIn = imageMode === 'upstream' ? describe.skip : describeEngine;

describeStandIn('rustfs at scale (s3rver stand-in, objects written into its folder)', () => {
  it(
    `${OBJECTS.toLocaleString('en-US')} objects: backup, verify, dry run and a restore of one prefix beside succeed with a ${HEAP_LIMIT} heap`,
    { timeout: 3_600_000 },
    async () => {
      const container = containers.track(await startS3(stack, uniqueName('okb-scale'), { accessKey: ACCESS, secretKey: SECRET }));
      await fillStandInBucket(stack, container.name, 'scale', OBJECTS);
      const project = await makeProject({ keys: false });
      await writeDotenv(project, { RUSTFS_ACCESS_KEY: ACCESS, RUSTFS_SECRET_KEY: SECRET, RUSTFS_ENDPOINT: container.endpoint });
      const env = { ...engineEnv(), NODE_OPTIONS: HEAP_LIMIT };
      const run = (args: string[]) =>
        runCli([...args, '--container', `rustfs=${container.name}`], { cwd: project, env, timeoutMs: 1_200_000 });

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

      // One prefix of them (1,000 objects), picked out of the streamed index and restored beside with the same heap.
      const picked = await run(['restore', archive, '--objects', 'scale/p0075/', '--to-bucket', 'picked', '-y']);
      expect(picked.stdout).toContain('restored rustfs: 1000 objects uploaded, 0 unchanged');
      expect(picked.code).toBe(0);
    },
  );
});
