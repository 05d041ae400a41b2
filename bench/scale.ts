/**
 * `npm run bench:scale`: a backup, verify and dry run of a million objects (SCALE_OBJECTS to
 * change it) through the built binary, with its own #! memory flags, against the s3rver
 * stand-in. Prints wall time and the peak RSS of each; the target is at most 300 MB.
 * The objects are written straight into the stand-in's folder (see fillStandInBucket); the tool
 * reads every one of them over S3. SCALE_STEPS=backup runs only the backup (each step takes long).
 */
import { mkdtemp, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireEngine, clientFor } from '../test/engine/engine.js';
import { prepareImages } from '../test/engine/images.js';
import { fillStandInBucket, startS3, uniqueName, type StackContext } from '../test/engine/stack.js';
import { measure, type Measurement } from './measure.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/dist-bench\/?$/, '');
const BINARY = join(REPO, 'bin/orkestra-backup');
const ACCESS = 'scale-access';
const SECRET = 'scale-secret-key';
const MB = 1024 * 1024;
const RSS_TARGET = 300 * MB;

async function main(): Promise<void> {
  const count = Number(process.env.SCALE_OBJECTS ?? 1_000_000);
  const acquired = await acquireEngine();
  if ('unavailable' in acquired) throw new Error(`no Docker engine: ${acquired.unavailable}`);
  const project = await mkdtemp(join(tmpdir(), 'okb-scale-'));
  const rows: { step: string; result: Measurement }[] = [];
  try {
    const docker = clientFor(acquired.engine.dockerHost);
    const stack: StackContext = { docker, dockerHost: acquired.engine.dockerHost, images: await prepareImages(docker) };
    if (stack.images.mode === 'upstream')
      throw new Error('the scale benchmark fills the s3rver stand-in directly; run it without ORKESTRA_TEST_IMAGES=upstream');
    const store = await startS3(stack, uniqueName('scale-rustfs'), { accessKey: ACCESS, secretKey: SECRET });
    try {
      log(`writing ${count.toLocaleString('en-US')} objects into the stand-in`);
      await fillStandInBucket(stack, store.name, 'scale', count);
      await mkdir(join(project, 'docker'), { recursive: true });
      await writeFile(
        join(project, 'docker/.env'),
        `RUSTFS_ENDPOINT=${store.endpoint}\nRUSTFS_ACCESS_KEY=${ACCESS}\nRUSTFS_SECRET_KEY=${SECRET}\n`,
        { mode: 0o600 },
      );
      const env = { ...process.env, DOCKER_HOST: stack.dockerHost, ORKESTRA_RUSTFS_CONTAINER: store.name };
      const archive = join(project, 'scale.tar.gz');
      const step = async (name: string, args: string[]) => {
        log(`${name}…`);
        const result = await measure(BINARY, args, { cwd: project, env });
        rows.push({ step: name, result });
        log(`${name}: exit ${result.code}, ${seconds(result.wallMs)}, peak RSS ${Math.round(result.peakRssBytes / MB)} MB`);
        if (result.code !== 0) throw new Error(`${name} failed:\n${result.stderr.slice(-2000)}\n${result.stdout.slice(-2000)}`);
        return result;
      };
      const steps = (process.env.SCALE_STEPS ?? 'backup,verify,dry-run').split(',');
      const runSteps = async () => {
        await step('backup', ['backup', '-c', 'rustfs', '-y', '-o', archive]);
        log(`archive: ${Math.round((await stat(archive)).size / MB)} MB`);
        if (!steps.includes('verify')) return;
        const verify = await step('verify', ['verify', archive]);
        if (!verify.stdout.includes('Result: sound.'))
          throw new Error(`verify did not find the archive sound:\n${verify.stdout.slice(-2000)}`);
        if (!steps.includes('dry-run')) return;
        const dryRun = await step('restore --dry-run', ['restore', archive, '--dry-run']);
        const unchanged = `bucket scale: exists — 0 to add, 0 to overwrite, ${count} unchanged`;
        if (!dryRun.stdout.includes(unchanged))
          throw new Error(`the dry run did not find every object unchanged:\n${dryRun.stdout.slice(0, 2000)}`);
      };
      await runSteps();
    } finally {
      await store.remove();
    }
  } finally {
    await rm(project, { recursive: true, force: true });
    await acquired.engine.stop();
  }
  console.log(`\n${count.toLocaleString('en-US')} objects, one bucket (target: peak RSS ≤ ${RSS_TARGET / MB} MB)\n`);
  console.log('| step | wall | peak RSS | within target |');
  console.log('|---|---|---|---|');
  for (const { step, result } of rows) {
    const rss = result.peakRssBytes;
    console.log(`| ${step} | ${seconds(result.wallMs)} | ${Math.round(rss / MB)} MB | ${rss <= RSS_TARGET ? 'yes' : 'NO'} |`);
  }
  if (rows.some(({ result }) => result.peakRssBytes > RSS_TARGET)) process.exitCode = 1;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function log(message: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

await main();
