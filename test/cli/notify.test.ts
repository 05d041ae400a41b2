import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from '../helpers/webhookReceiver.js';
import { freePort } from '../engine/stack.js';

/**
 * --notify, ORKESTRA_NOTIFY and ORKESTRA_HEALTHCHECK_URL through the binary, against loopback
 * receivers: backups of secrets (no Docker) succeed, a Redis at a closed port (REDIS_URL) fails.
 */

const PASSWORD = 'Recognisable-Pa55word-7f3a';
const receivers: WebhookReceiver[] = [];
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

async function receiver(answer?: (request: ReceivedRequest) => number | 'hang'): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver(answer);
  receivers.push(started);
  return started;
}

/** A project whose docker/.env holds a password (and REDIS_URL carrying it, to a port nothing listens on) plus `extra`. */
async function projectWithSecret(extra = ''): Promise<string> {
  const closedPort = await freePort();
  return makeProject({
    env: `MONGO_ROOT_PASSWORD=${PASSWORD}\nREDIS_PASSWORD=${PASSWORD}\nREDIS_URL=redis://:${PASSWORD}@127.0.0.1:${closedPort}\n${extra}`,
  });
}

function expectNoSecret(requests: readonly ReceivedRequest[]): void {
  for (const request of requests) {
    expect(request.body).not.toContain(PASSWORD);
    expect(request.body).not.toContain(encodeURIComponent(PASSWORD));
  }
}

describe('notifications and health-check pings of a run', () => {
  it('a failed backup posts a failure to every ORKESTRA_NOTIFY URL and pings /start then /fail with the report, no secret, exit code unchanged', async () => {
    const hooks = await receiver();
    const project = await projectWithSecret(
      `ORKESTRA_NOTIFY=${hooks.origin}/hook/one,${hooks.origin}/hook/two\nORKESTRA_HEALTHCHECK_URL=${hooks.origin}/ping/check-uuid\n`,
    );
    const result = await runCli(['backup', '-c', 'redis', '--yes'], { cwd: project });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot reach Redis at 127\.0\.0\.1:\d+/);
    expect(result.stderr).not.toContain('warning');
    const paths = hooks.requests.map((request) => request.path);
    expect(paths[0]).toBe('/ping/check-uuid/start');
    expect(paths.slice(1).sort()).toEqual(['/hook/one', '/hook/two', '/ping/check-uuid/fail']);
    for (const path of ['/hook/one', '/hook/two']) {
      const posted = hooks.requests.find((request) => request.path === path)!;
      expect(posted.contentType).toBe('application/json');
      const message = JSON.parse(posted.body);
      expect(message).toMatchObject({ event: 'failure', command: 'backup', environment: 'local', exitCode: 1, anomalies: [] });
      expect(message.error).toMatch(/cannot reach Redis/);
      expect(message.text).toMatch(/^orkestra-backup backup FAILED on \S+ \(local\) after .*: cannot back up redis/);
    }
    const fail = hooks.requests.find((request) => request.path === '/ping/check-uuid/fail')!;
    // The report's last lines: what the run printed, ending with the error line main prints.
    expect(fail.body.split('\n').at(-1)).toBe(result.stderr.trim().split('\n').at(-1));
    expect(fail.body).toMatch(/^orkestra-backup: cannot back up redis \(cannot reach Redis/m);
    expectNoSecret(hooks.requests);
  });

  it('a successful backup posts nothing without --notify-on success, and pings /start then the bare check URL', async () => {
    const hooks = await receiver();
    const project = await projectWithSecret(`ORKESTRA_HEALTHCHECK_URL=${hooks.origin}/ping/check-uuid\n`);
    const result = await runCli(['backup', '-c', 'secrets', '--yes', '--notify', `${hooks.origin}/hook`], { cwd: project });
    expect(result.code).toBe(0);
    expect(hooks.requests.map((request) => request.path)).toEqual(['/ping/check-uuid/start', '/ping/check-uuid']);
    expectNoSecret(hooks.requests);
  });

  it('--notify-on success posts the success with its archive, size and a text field; --notify replaces ORKESTRA_NOTIFY', async () => {
    const hooks = await receiver();
    const project = await projectWithSecret(`ORKESTRA_NOTIFY=${hooks.origin}/from-dotenv\n`);
    const result = await runCli(
      ['backup', '-c', 'secrets', '--yes', '--notify', `${hooks.origin}/a`, '--notify', `${hooks.origin}/b`, '--notify-on', 'success'],
      { cwd: project },
    );
    expect(result.code).toBe(0);
    expect(hooks.requests.map((request) => request.path).sort()).toEqual(['/a', '/b']);
    const message = JSON.parse(hooks.requests[0].body);
    const archive = result.stdout.trim();
    expect(message).toMatchObject({ event: 'success', command: 'backup', exitCode: 0, archive, error: null, anomalies: [] });
    expect(message.bytes).toBeGreaterThan(0);
    expect(message.durationSeconds).toBeGreaterThan(0);
    expect(message.text).toContain(`Archive: ${archive.split('/').at(-1)}`);
    expectNoSecret(hooks.requests);
  });

  it('backup all --strict that skipped a component exits 1: the failure names the skip and the archive it still wrote', async () => {
    const hooks = await receiver();
    const project = await makeProject({ env: `MONGO_ROOT_PASSWORD=${PASSWORD}\nORKESTRA_HEALTHCHECK_URL=${hooks.origin}/ping/uuid\n` });
    // No engine: mongodb, redis and rustfs are unavailable and skipped.
    const result = await runCli(['backup', 'all', '--strict', '--yes', '--notify', `${hooks.origin}/hook`], {
      cwd: project,
      env: { DOCKER_HOST: `unix://${join(project, 'no-engine.sock')}` },
    });
    expect(result.code).toBe(1);
    const message = JSON.parse(hooks.requests.find((request) => request.path === '/hook')!.body);
    expect(message).toMatchObject({ event: 'failure', exitCode: 1, archive: result.stdout.trim() });
    expect(message.bytes).toBeGreaterThan(0);
    expect(message.error).toMatch(/^--strict: skipped mongodb \(/);
    expect(hooks.requests[0].path).toBe('/ping/uuid/start');
    expect(
      hooks.requests
        .slice(1)
        .map((request) => request.path)
        .sort(),
    ).toEqual(['/hook', '/ping/uuid/fail']);
    expect(
      hooks.requests
        .find((request) => request.path === '/ping/uuid/fail')!
        .body.split('\n')
        .at(-1),
    ).toMatch(/^orkestra-backup: --strict: skipped/);
    expectNoSecret(hooks.requests);
  });

  it('a receiver that never answers costs three short attempts and one warning line; the backup still exits 0', async () => {
    const hanging = await receiver(() => 'hang');
    const project = await projectWithSecret();
    const started = Date.now();
    const result = await runCli(
      ['backup', '-c', 'secrets', '--yes', '--notify', `${hanging.origin}/hook/t0ken-path`, '--notify-on', 'success'],
      {
        cwd: project,
        env: { ORKESTRA_NOTIFY_TIMEOUT_SECONDS: '0.5' },
      },
    );
    const elapsed = Date.now() - started;
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/\.tar\.gz$/);
    expect(hanging.requests).toHaveLength(3);
    const warnings = result.stderr.split('\n').filter((line) => line.includes('warning'));
    expect(warnings).toEqual([
      `orkestra-backup: warning: the success notification to ${hanging.origin} was not delivered (no answer within 0.5 s); the run's result is unchanged.`,
    ]);
    expect(result.stderr).not.toContain('t0ken-path');
    // Three attempts of 0.5 s and pauses of 1 s and 2 s, plus the backup itself.
    expect(elapsed).toBeLessThan(20_000);
  });

  it('a --notify URL that is not http(s) is a usage error before anything is written, its token not shown', async () => {
    const project = await projectWithSecret();
    const result = await runCli(['backup', '-c', 'secrets', '--yes', '--notify', 'ftp://files.example.com/t0ken-path'], { cwd: project });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('entry 1 of ORKESTRA_NOTIFY (--notify) is a ftp: URL');
    expect(result.stderr).not.toContain('t0ken-path');
    expect(await readdir(project)).not.toContain('backups');
  });

  it('a failed drill pings /start then /fail and posts a drill failure; a secret the run printed is masked in both', async () => {
    const hooks = await receiver();
    const project = await projectWithSecret(`ORKESTRA_HEALTHCHECK_URL=${hooks.origin}/ping/drill-check\n`);
    // The error names the archive, and this name holds the password: the messages must not.
    const archive = join(project, `missing-${PASSWORD}.tar.gz`);
    const result = await runCli(['drill', archive, '--notify', `${hooks.origin}/hook`], { cwd: project });
    expect(result.stderr).toContain(PASSWORD);
    expect(result.code).not.toBe(0);
    expect(hooks.requests[0].path).toBe('/ping/drill-check/start');
    expect(
      hooks.requests
        .slice(1)
        .map((request) => request.path)
        .sort(),
    ).toEqual(['/hook', '/ping/drill-check/fail']);
    const message = JSON.parse(hooks.requests.find((request) => request.path === '/hook')!.body);
    expect(message).toMatchObject({ event: 'failure', command: 'drill', exitCode: result.code });
    expect(message.error).toContain('missing-***.tar.gz');
    expect(hooks.requests.find((request) => request.path === '/ping/drill-check/fail')!.body).toContain('missing-***.tar.gz');
    expectNoSecret(hooks.requests);
  });

  it('verify posts its failure but pings no health check (the check belongs to backups and drills)', async () => {
    const hooks = await receiver();
    const project = await projectWithSecret(`ORKESTRA_HEALTHCHECK_URL=${hooks.origin}/ping/check-uuid\n`);
    const notAnArchive = join(project, 'not-an-archive.tar.gz');
    await writeFile(notAnArchive, 'plain text, not gzip\n');
    const result = await runCli(['verify', notAnArchive, '--notify', `${hooks.origin}/hook`], { cwd: project });
    expect(result.code).toBe(2);
    expect(hooks.requests.map((request) => request.path)).toEqual(['/hook']);
    expect(JSON.parse(hooks.requests[0].body)).toMatchObject({ event: 'failure', command: 'verify', exitCode: 2 });
  });
});
