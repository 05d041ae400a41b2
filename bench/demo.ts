/**
 * `npm run demo`: the tool's main job on a sample deployment, for anyone without one. It starts
 * the stack of `npm run stack` (a private engine when needed) under names of this run, puts
 * sample data in every component, runs a backup, a verify and a restore --dry-run with the built
 * binary, prints what it did and how to open the interface on it, and waits for Ctrl-C. Ctrl-C,
 * a failure, or the end of the run with `--exit` (no waiting: for tests and CI) removes the
 * containers, the project folder and a private engine.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireEngine, clientFor, type EngineHandle } from '../test/engine/engine.js';
import { prepareImages } from '../test/engine/images.js';
import type { RunningContainer, StackContext } from '../test/engine/stack.js';
import { seedMongo, seedObjects, seedRedis, startDemoStack, writeDemoProject, type DemoStack } from './demoStack.js';

const BINARY = fileURLToPath(new URL('../../bin/orkestra-backup', import.meta.url));
const EXIT_AFTER_DRY_RUN = process.argv.includes('--exit');

class Interrupted extends Error {}

const containers: RunningContainer[] = [];
let engine: EngineHandle | undefined;
let folder: string | undefined;
let interrupted = false;
let wake: (() => void) | undefined;

function onSignal(): void {
  if (interrupted) return;
  interrupted = true;
  say('\nStopping: the demo is removed once the current step ends.');
  wake?.();
}

/** Between steps: a signal ends the run here, so that nothing is created after the removal. */
function checkpoint(): void {
  if (interrupted) throw new Interrupted();
}

async function tearDown(): Promise<void> {
  const names = containers.map((container) => container.name);
  await Promise.all(containers.splice(0).map((container) => container.remove()));
  const privateEngine = engine?.privateEngine ?? false;
  await engine?.stop();
  engine = undefined;
  if (folder) await rm(folder, { recursive: true, force: true });
  const removed = [...names.map((name) => `container ${name}`), ...(folder ? [`folder ${folder}`] : [])];
  if (privateEngine) removed.push('the private engine');
  say(removed.length > 0 ? `Removed: ${removed.join(', ')}.` : 'Nothing to remove.');
  folder = undefined;
}

interface Run {
  environment: NodeJS.ProcessEnv;
  project: string;
}

/** Runs the built binary in the demo project, showing the command and everything it printed. */
async function orkestraBackup(run: Run, args: string[]): Promise<string> {
  say(`\n$ orkestra-backup ${args.join(' ')}`);
  const child = spawn(process.execPath, [BINARY, ...args], { cwd: run.project, env: run.environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const show = (chunk: Buffer) => process.stdout.write(chunk.toString('utf8').replace(/^(?=.)/gm, '  '));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    show(chunk);
  });
  child.stderr.on('data', show);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  checkpoint();
  if (code !== 0) throw new Error(`orkestra-backup ${args[0]} exited with ${code}`);
  return stdout;
}

async function startStack(id: string): Promise<{ stack: StackContext; demo: DemoStack }> {
  say('Starting the Docker engine and the containers (the first run builds the images) …');
  const result = await acquireEngine();
  if ('unavailable' in result) throw new Error(`no Docker engine: ${result.unavailable}`);
  engine = result.engine;
  checkpoint();
  const docker = clientFor(engine.dockerHost);
  const stack: StackContext = { docker, dockerHost: engine.dockerHost, images: await prepareImages(docker) };
  checkpoint();
  const demo = await startDemoStack(stack, id, (container) => containers.push(container));
  checkpoint();
  return { stack, demo };
}

async function seedEverything(stack: StackContext, demo: DemoStack, project: string): Promise<void> {
  const lines = [`mongodb: ${await seedMongo(stack, demo, folder ?? project)}`];
  checkpoint();
  lines.push(`redis: ${await seedRedis(stack, demo)}`);
  checkpoint();
  lines.push(`rustfs: ${await seedObjects(demo)}`);
  lines.push(...(await writeDemoProject(project, demo)));
  checkpoint();
  say(`\nSample data:\n${lines.map((line) => `  ${line}`).join('\n')}`);
  if (stack.images.mode === 'offline') {
    say(
      '\nMongoDB here is a STAND-IN: no MongoDB server can be installed on this machine, so the container\n' +
        'runs stand-ins for mongodump/mongorestore that replay and check the archive as mongo-tools does.\n' +
        'Redis and the S3 server are real.',
    );
  }
}

function containerSettings(demo: DemoStack): Record<string, string> {
  return { ORKESTRA_MONGODB_CONTAINER: demo.mongodb, ORKESTRA_REDIS_CONTAINER: demo.redis, ORKESTRA_RUSTFS_CONTAINER: demo.rustfs };
}

function nextSteps(run: Run, demo: DemoStack, archive: string): string {
  const settings = { DOCKER_HOST: run.environment.DOCKER_HOST ?? '', ...containerSettings(demo) };
  const exports = Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  return `
Done: a backup of every component, verified, and a dry run of its restore.

Open the interface on it, in another shell:

  cd ${run.project}
  export ${exports}
  ${BINARY}

From there (or with the flags) try a real restore: ${BINARY} restore ${archive}`;
}

async function main(): Promise<void> {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const id = randomBytes(3).toString('hex');
  folder = await mkdtemp(join(tmpdir(), 'orkestra-demo-'));
  const project = join(folder, 'project');
  const { stack, demo } = await startStack(id);
  say(`The stack is up on ${stack.dockerHost}: ${demo.mongodb}, ${demo.redis}, ${demo.rustfs}.`);
  await seedEverything(stack, demo, project);
  const run: Run = { project, environment: { ...process.env, DOCKER_HOST: stack.dockerHost, ...containerSettings(demo) } };
  const archive = (await orkestraBackup(run, ['backup', 'all', '--yes'])).trim().split('\n').pop() ?? '';
  await orkestraBackup(run, ['verify', archive]);
  await orkestraBackup(run, ['restore', archive, '--dry-run']);
  say(nextSteps(run, demo, archive));
  if (EXIT_AFTER_DRY_RUN) {
    say('\n--exit: removing the demo now.');
    return;
  }
  say(`\nCtrl-C here removes the containers and ${folder}${engine?.privateEngine ? ' and stops the private engine' : ''}.`);
  // A pending promise does not keep Node running; the timer does, until the signal.
  const alive = setInterval(() => undefined, 1 << 30);
  await new Promise<void>((resolve) => {
    wake = resolve;
    if (interrupted) resolve();
  });
  clearInterval(alive);
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

main().then(
  async () => {
    await tearDown();
    process.exit(0);
  },
  async (error: unknown) => {
    if (!(error instanceof Interrupted)) {
      console.error(`npm run demo: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
    await tearDown().catch((cleanup: unknown) => console.error(`npm run demo: removing the demo failed: ${String(cleanup)}`));
    process.exit(error instanceof Interrupted ? 130 : 1);
  },
);
