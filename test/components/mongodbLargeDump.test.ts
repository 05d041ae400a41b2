import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyIntoContainer } from '../../bench/dataset.js';
import { BINARY, runCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, imageMode, writeDotenv } from '../helpers/engine.js';
import { writeIncompressibleDump } from '../helpers/mongodumps.js';
import { makeProject } from '../helpers/project.js';
import { temporaryFolder } from '../helpers/tempFolders.js';
import { execText, startMongo, uniqueName, type StackContext } from '../engine/stack.js';

/**
 * A dump larger than the pipe and socket buffers between the tool and the container: what
 * mongorestore leaves unread stays queued in the exec connection, and a connection that is not
 * destroyed keeps the process alive until the engine drops it (80–130 s on Docker Engine 20.10).
 */
const DUMP_BYTES = 40 * 1024 * 1024;
/**
 * How long the process may take to exit once it has printed its result: it takes well under a
 * second; an exec connection left open kept it 8 to over 100 s.
 */
const EXIT_BOUND_MS = 5_000;
const DATABASE = 'big';
const ROOT_PASSWORD = 'mongo-root-pw-Lq2';
const containers = new Containers();
let stack: StackContext;
let mongo: string;
let archive: string;

async function project(): Promise<string> {
  const dir = await makeProject({ keys: false });
  await writeDotenv(dir, { MONGO_DATABASE: DATABASE });
  return dir;
}

interface TimedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the line matching `result` being printed to the process exiting. */
  exitAfterResultMs: number;
}

/**
 * Runs the binary and times its exit from the moment its output matches `result`. A process
 * still running `EXIT_BOUND_MS` after that is killed and reported as lingering.
 */
function runTimed(args: readonly string[], cwd: string, result: RegExp): Promise<TimedRun> {
  const child = spawn(process.execPath, [BINARY, ...args], {
    cwd,
    env: { ...process.env, ...engineEnv() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let resultAt: number | undefined;
  let killer: NodeJS.Timeout | undefined;
  const seen = () => {
    if (resultAt !== undefined || !result.test(stdout + stderr)) return;
    resultAt = Date.now();
    killer = setTimeout(() => child.kill('SIGKILL'), EXIT_BOUND_MS + 5_000);
  };
  child.stdout.on('data', (chunk: Buffer) => ((stdout += chunk.toString()), seen()));
  child.stderr.on('data', (chunk: Buffer) => ((stderr += chunk.toString()), seen()));
  const overall = setTimeout(() => child.kill('SIGKILL'), 240_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      clearTimeout(overall);
      if (resultAt === undefined) reject(new Error(`the run never printed ${result}:\n${stdout}\n${stderr}`));
      else resolve({ code, stdout, stderr, exitAfterResultMs: Date.now() - resultAt });
    });
  });
}

// The large dump is put into the stand-in's server; a real server would need it loaded first.
const describeStandIn = imageMode === 'upstream' ? describe.skip : describeEngine;

describeStandIn('mongodb through docker exec with a dump larger than the buffers', () => {
  beforeAll(async () => {
    stack = engineStack();
    mongo = containers.track(await startMongo(stack, uniqueName('okb-bigdump'), { rootUser: 'root', rootPassword: ROOT_PASSWORD })).name;
    // The stand-in's server holds the large dump: mongodump streams it back, as a real server's data.
    const dump = join(await temporaryFolder('okb-bigdump-'), 'server.archive.gz');
    await writeIncompressibleDump(dump, DATABASE, DUMP_BYTES);
    expect((await stat(dump)).size).toBeGreaterThanOrEqual(32 * 1024 * 1024);
    await copyIntoContainer(stack, mongo, '/stand-in', 'server.archive.gz', dump);
    const backup = await runCli(['backup', '-c', 'mongodb', '-y', '--container', `mongodb=${mongo}`], {
      cwd: await project(),
      env: engineEnv(),
    });
    expect(backup.stderr).not.toContain('FAILED');
    expect(backup.code).toBe(0);
    archive = backup.stdout.trim();
  }, 300_000);
  afterAll(() => containers.removeAll());

  it('restore --dry-run of a 40 MB dump exits within seconds of its report, though mongorestore --dryRun leaves most of the dump unread [STAND-IN]', async () => {
    const run = await runTimed(['restore', archive, '--dry-run', '--container', `mongodb=${mongo}`], await project(), /^Result: /m);
    expect(run.exitAfterResultMs, 'milliseconds from the report to the exit').toBeLessThan(EXIT_BOUND_MS);
    expect(run.stdout).toContain('Result: the component can be restored. Nothing was changed.');
    expect(run.stdout).toMatch(/mongorestore --dryRun connected to MongoDB in \S+ and accepted the dump's header/);
    expect(run.code).toBe(0);
  }, 300_000);

  it('a restore whose mongorestore fails while most of a 40 MB dump is still being written puts the previous data back and exits within seconds [STAND-IN]', async () => {
    await execText(stack, mongo, ['touch', '/stand-in/fail-restore-once']);
    const run = await runTimed(['restore', archive, '-y', '--container', `mongodb=${mongo}`], await project(), /was put back from/);
    expect(run.exitAfterResultMs, 'milliseconds from the message to the exit').toBeLessThan(EXIT_BOUND_MS);
    expect(run.stderr).toMatch(/E11000 duplicate key error — the previous data of database big was put back from .*\.pre-restore-/);
    expect(run.code).toBe(1);
  }, 300_000);
});
