import { spawn, execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { describeEngine, engineEnv, engineStack, imageMode } from '../helpers/engine.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

const REPO = join(import.meta.dirname, '../..');
const DEMO = join(REPO, 'dist-bench/bench/demo.js');

interface DemoRun {
  code: number | null;
  output: string;
}

/**
 * Runs `npm run demo`'s program with a TMPDIR of its own, so that every folder it or the tool
 * makes is one the test can see; `onOutput` may act on the output as it comes (send Ctrl-C).
 */
function runDemo(
  tmp: string,
  args: string[],
  onOutput: (output: string, pid: number) => void = () => undefined,
  environment: NodeJS.ProcessEnv = {},
): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEMO, ...args], {
      cwd: REPO,
      env: { ...process.env, ...engineEnv(), ...environment, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const take = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      onOutput(output, child.pid ?? 0);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The containers of one demo run still on the engine. */
async function demoContainers(output: string): Promise<string[]> {
  const id = /orkestra-demo-([0-9a-f]{6})-mongodb/.exec(output)?.[1];
  expect(id, output).toBeDefined();
  const listed = await engineStack().docker.listContainers({ all: true, filters: { name: [`orkestra-demo-${id}-`] } });
  return listed.flatMap((info) => info.Names);
}

describeEngine('npm run demo', () => {
  beforeAll(async () => {
    // npm run demo compiles the bench folder before it runs; the test does the same.
    await promisify(execFile)(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.bench.json'], {
      cwd: REPO,
    });
  }, 300_000);

  it('--exit: backs up, verifies and dry-runs every component of the sample stack (STAND-IN mongodb offline), then removes every container and folder', async () => {
    const tmp = await temporaryFolder('demo-tmp-');
    const { code, output } = await runDemo(tmp, ['--exit']);
    expect(code, output).toBe(0);
    expect(output).toMatch(/Backup complete: mongodb, redis, rustfs, secrets, uploads/);
    expect(output).toMatch(/\$ orkestra-backup verify .*\.tar\.gz\n[\s\S]*Result: sound\./);
    expect(output).toMatch(/--dry-run\n[\s\S]*Result: all 5 components can be restored\. Nothing was changed\./);
    expect(output).toMatch(/orkestra\.users \(collection\): 500 documents/);
    expect(output).toMatch(/bucket orkestra-assets: exists — 0 to add, 0 to overwrite, 4 unchanged/);
    if (imageMode === 'offline') expect(output).toMatch(/MongoDB here is a STAND-IN/);
    expect(output).toMatch(/Open the interface on it[\s\S]*export DOCKER_HOST=\S+ ORKESTRA_MONGODB_CONTAINER=/);
    expect(output).toMatch(/Removed: container orkestra-demo-\w+-mongodb, container \S+-redis, container \S+-rustfs, folder /);
    expect(await demoContainers(output)).toEqual([]);
    expect(await readdir(tmp)).toEqual([]);
  }, 300_000);

  it('Ctrl-C while the demo waits removes its containers and folders and exits 0', async () => {
    const tmp = await temporaryFolder('demo-tmp-');
    let sent = false;
    const { code, output } = await runDemo(tmp, [], (text, pid) => {
      if (!sent && text.includes('Ctrl-C here removes')) {
        sent = true;
        process.kill(pid, 'SIGINT');
      }
    });
    expect(sent, output).toBe(true);
    expect(code, output).toBe(0);
    expect(output).toMatch(/Removed: container orkestra-demo-\w+-mongodb/);
    expect(await demoContainers(output)).toEqual([]);
    expect(await readdir(tmp)).toEqual([]);
  }, 300_000);

  it('a step that fails (the backup refuses a bad ORKESTRA_ENV) ends the demo with exit 1 and removes its containers and folders', async () => {
    const tmp = await temporaryFolder('demo-tmp-');
    const { code, output } = await runDemo(tmp, ['--exit'], undefined, { ORKESTRA_ENV: 'not a word' });
    expect(code, output).toBe(1);
    expect(output).toMatch(/npm run demo: orkestra-backup backup exited with 2/);
    expect(output).not.toMatch(/\$ orkestra-backup verify/);
    expect(output).toMatch(/Removed: container orkestra-demo-\w+-mongodb/);
    expect(await demoContainers(output)).toEqual([]);
    expect(await readdir(tmp)).toEqual([]);
  }, 300_000);
});
