import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../src/base/processes.js';
import { expectNoStackTrace, runCli, startCli, type RunResult } from '../helpers/cli.js';
import { standInPid, standInState, startHostMongo, type HostMongo, standInEnv } from '../helpers/hostMongo.js';
import { temporaryFolder } from '../helpers/tempFolders.js';
import { freePort } from '../engine/stack.js';

/**
 * MONGO_URI when things go wrong: interrupts, a killed run, a server that is away, tools that
 * hang or print the connection string. The tools are STAND-INS (test/engine/standins) that
 * behave as the real mongo-tools 100.x do there; the driver talks to CongoDB, which refuses a
 * PLAIN login with another password than PASSWORD.
 */
const PASSWORD = 'pa55:w0rd@host-only';

let mongo: HostMongo;

beforeAll(async () => {
  mongo = await startHostMongo(PASSWORD);
});
afterAll(() => mongo?.server.stop());

/** A run's own TMPDIR (where the --config folders go), its stand-in state, and the environment for both. */
async function scene(): Promise<{ tmp: string; state: string; env: NodeJS.ProcessEnv }> {
  const tmp = await temporaryFolder('okb-mongo-tmpdir-');
  const state = await standInState();
  const env = { TMPDIR: tmp, ...standInEnv(state, PASSWORD) };
  return { tmp, state, env };
}

async function configFolders(tmp: string): Promise<string[]> {
  return (await readdir(tmp)).filter((name) => name.startsWith('orkestra-mongo-'));
}

/** No password in any form, in anything the run printed. */
function expectNoPassword(result: RunResult): void {
  for (const output of [result.stdout, result.stderr]) {
    expect(output).not.toContain(PASSWORD);
    expect(output).not.toContain(encodeURIComponent(PASSWORD));
  }
}

/** A pid no process has any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('MONGO_URI interrupted or killed: no password left on disk, no tool left running (STAND-INS)', () => {
  it.each([1, 2])(
    'STAND-IN mongodump interrupted by %i SIGINT: a plain message, no stack trace, the tool stopped, no config folder left',
    async (signals) => {
      const { tmp, state, env } = await scene();
      await writeFile(join(state, 'slow-dump'), '');
      const run = startCli(['backup', '-c', 'mongodb', '-y'], { cwd: await mongo.project(mongo.uri), env });
      const dump = await standInPid(state, 'dump');
      expect(await configFolders(tmp)).toHaveLength(1);
      for (let sent = 0; sent < signals; sent += 1) run.signal('SIGINT');
      const result = await run.result;
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/orkestra-backup: .*interrupted/);
      expectNoStackTrace(result.stderr);
      // After a second signal orkestra-backup exits at once and SIGKILLs mongodump on its way out: the
      // kernel ends that process a moment later, on a busy machine after the tool is gone.
      await expect.poll(() => isProcessAlive(dump), { timeout: 10_000 }).toBe(false);
      expect(await configFolders(tmp)).toEqual([]);
    },
    60_000,
  );

  it('STAND-IN --version probe that never answers: SIGINT stops it at once, it is not left running', async () => {
    const { state, env } = await scene();
    await writeFile(join(state, 'hang-version'), '');
    const run = startCli(['backup', '-c', 'mongodb', '-y'], { cwd: await mongo.project(mongo.uri), env });
    const probe = await standInPid(state, 'version');
    const signalled = Date.now();
    run.signal('SIGINT');
    const result = await run.result;
    // Well under the 15 s the tool gives its work to unwind before it exits anyway.
    expect(result.exitedAt - signalled).toBeLessThan(10_000);
    expect(result.code).toBe(1);
    expectNoStackTrace(result.stderr);
    expect(isProcessAlive(probe)).toBe(false);
  }, 60_000);

  it('STAND-IN: a run killed with SIGKILL mid-dump leaves its config folder; the next run removes it (and no live run’s)', async () => {
    const { tmp, state, env } = await scene();
    await writeFile(join(state, 'slow-dump'), '');
    const project = await mongo.project(mongo.uri);
    const killed = startCli(['backup', '-c', 'mongodb', '-y'], { cwd: project, env });
    const orphan = await standInPid(state, 'dump');
    killed.signal('SIGKILL');
    await killed.result;
    process.kill(orphan, 'SIGKILL'); // the stand-in outlives a run killed outright; the test stops it
    const [left] = await configFolders(tmp);
    expect(await readFile(join(tmp, left, 'config.yaml'), 'utf8')).toContain(encodeURIComponent(PASSWORD));
    // An older leftover of a gone process, and one of a live process (this test) that must stay.
    const gone = `orkestra-mongo-${await deadPid()}-0123abcd`;
    const live = `orkestra-mongo-${process.pid}-89abcdef`;
    for (const name of [gone, live]) {
      await mkdir(join(tmp, name));
      await writeFile(join(tmp, name, 'config.yaml'), 'uri: "…"\n');
    }
    await rm(join(state, 'slow-dump'));
    const next = await runCli(['backup', '-c', 'mongodb', '-y'], { cwd: project, env });
    expect(next.code).toBe(0);
    expect(await configFolders(tmp)).toEqual([live]);
    expect(existsSync(join(tmp, left))).toBe(false);
  }, 60_000);
});

describe('MONGO_URI: passwords the tools print are masked in every line relayed (STAND-INS echo the URI, as the real ones do)', () => {
  it('STAND-IN login and connect errors echo the whole URI: backup stderr, the dry run report and --json show user:***@ only', async () => {
    const { state, env } = await scene();
    const project = await mongo.project(mongo.uri);
    const backup = await runCli(['backup', '-c', 'mongodb', '-y'], { cwd: project, env });
    expect(backup.code).toBe(0);
    const archive = backup.stdout.trim();

    const refused = { ...env, MONGO_INITDB_ROOT_PASSWORD: 'the-real-one' };
    const login = await runCli(['backup', '-c', 'mongodb', '-y'], { cwd: project, env: refused });
    expect(login.code).toBe(1);
    expect(login.stderr).toMatch(/could not log in .* as root: .*failed to connect to mongodb:\/\/root:\*\*\*@127\.0\.0\.1/);
    expectNoPassword(login);

    await writeFile(join(state, 'server-down'), '');
    const dryRun = await runCli(['restore', archive, '--dry-run'], { cwd: project, env });
    expect(dryRun.code).not.toBe(0);
    expect(dryRun.stdout + dryRun.stderr).toMatch(/failed to connect to mongodb:\/\/root:\*\*\*@127\.0\.0\.1/);
    expectNoPassword(dryRun);
    const json = await runCli(['restore', archive, '--dry-run', '--json'], { cwd: project, env });
    expect(json.stdout).toContain('root:***@');
    expectNoPassword(json);
  }, 60_000);
});

describe('MONGO_URI: a time limit of the tool’s own (STAND-INS)', () => {
  it('server away: backup and the dry run fail in one line from the driver, before any tool starts (the STAND-IN would hang, deaf to SIGTERM)', async () => {
    const { state, env } = await scene();
    const project = await mongo.project(mongo.uri);
    const backup = await runCli(['backup', '-c', 'mongodb', '-y'], { cwd: project, env });
    expect(backup.code).toBe(0);
    // As the real mongodump 100.11 does with the server unreachable: it never returns.
    await writeFile(join(state, 'hang-ignoring-sigterm'), '');
    const calls = await readFile(join(state, 'calls.log'), 'utf8');
    const away = await mongo.project(`mongodb://root:${encodeURIComponent(PASSWORD)}@127.0.0.1:${await freePort()}/?directConnection=true`);
    for (const args of [
      ['backup', '-c', 'mongodb', '-y'],
      ['restore', backup.stdout.trim(), '--dry-run'],
    ]) {
      const result = await runCli(args, { cwd: away, env, timeoutMs: 45_000 });
      expect(result.code).toBe(1);
      // One line, in the dry run's report or the backup's error: the driver's reason, and that no tool ran.
      expect(result.stdout + result.stderr).toMatch(
        /MONGO_URI: the server did not answer or refused the login \(connect ECONNREFUSED 127\.0\.0\.1:\d+\); mongo(dump|restore) was not started\./,
      );
      expectNoPassword(result);
    }
    expect(await readFile(join(state, 'calls.log'), 'utf8')).toBe(calls);
    expect(existsSync(join(state, 'dump.pid'))).toBe(false);

    const wrong = await mongo.project(mongo.uri.replace(encodeURIComponent(PASSWORD), 'not-it'));
    const refused = await runCli(['backup', '-c', 'mongodb', '-y'], { cwd: wrong, env, timeoutMs: 45_000 });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /MONGO_URI: the server did not answer or refused the login \(Authentication failed\.\); mongodump was not started\./,
    );
    expect(existsSync(join(state, 'dump.pid'))).toBe(false);
  }, 120_000);

  it('STAND-IN mongodump making no progress and ignoring SIGTERM: stopped after ORKESTRA_MONGO_STALL_SECONDS, killed with SIGKILL, said so', async () => {
    const { tmp, state, env } = await scene();
    await writeFile(join(state, 'hang-ignoring-sigterm'), '');
    const project = await mongo.project(mongo.uri, ['ORKESTRA_MONGO_STALL_SECONDS=2']);
    const run = startCli(['backup', '-c', 'mongodb', '-y'], { cwd: project, env, timeoutMs: 60_000 });
    const dump = await standInPid(state, 'dump');
    const result = await run.result;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /mongodump made no progress for 2 seconds \(no output written, no input read\) and was stopped\. It ignored SIGTERM and was killed \(SIGKILL\)\./,
    );
    expect(result.stderr).toContain('ORKESTRA_MONGO_STALL_SECONDS sets this limit');
    expectNoStackTrace(result.stderr);
    expect(isProcessAlive(dump)).toBe(false);
    expect(await configFolders(tmp)).toEqual([]);

    const bad = await runCli(['backup', '-c', 'mongodb', '-y'], {
      cwd: await mongo.project(mongo.uri, ['ORKESTRA_MONGO_STALL_SECONDS=soon']),
      env,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/ORKESTRA_MONGO_STALL_SECONDS must be a whole number of seconds/);
  }, 60_000);
});
