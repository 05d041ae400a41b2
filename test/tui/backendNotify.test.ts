import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/tui/backend.js';
import type { RunEvent } from '../../src/model/events.js';
import { makeProject } from '../helpers/project.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhookReceiver.js';

describe('the interactive interface tells backups and drills as the command line does', () => {
  const receivers: WebhookReceiver[] = [];
  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
  });

  it('a backup posts its success and pings the check; a failed drill pings /fail with its steps; a warning is a step', async () => {
    const hooks = await startWebhookReceiver();
    receivers.push(hooks);
    const project = await makeProject();
    const settings = {
      ORKESTRA_NOTIFY: `${hooks.origin}/hook`,
      ORKESTRA_NOTIFY_ON: 'success',
      ORKESTRA_HEALTHCHECK_URL: `${hooks.origin}/ping/uuid`,
    };
    const backend = await createBackend({ projectDir: project, containers: {}, settings });
    const view = await backend.backup(['secrets'], () => undefined, new AbortController().signal);
    expect(hooks.requests[0].path).toBe('/ping/uuid/start');
    expect(
      hooks.requests
        .slice(1)
        .map((request) => request.path)
        .sort(),
    ).toEqual(['/hook', '/ping/uuid']);
    const message = JSON.parse(hooks.requests.find((request) => request.path === '/hook')!.body);
    expect(message).toMatchObject({ event: 'success', command: 'backup', archive: view.archivePath, bytes: view.archiveBytes });
    expect(JSON.stringify(hooks.requests)).not.toContain('hunter2-secret');

    hooks.requests.splice(0);
    const missing = join(project, 'backups/missing.tar.gz');
    await expect(backend.drill(missing, () => undefined, new AbortController().signal)).rejects.toThrow(/missing\.tar\.gz/);
    expect(hooks.requests[0].path).toBe('/ping/uuid/start');
    const fail = hooks.requests.find((request) => request.path === '/ping/uuid/fail')!;
    expect(fail.body).toMatch(/^orkestra-backup: .*missing\.tar\.gz/m);
    expect(JSON.parse(hooks.requests.find((request) => request.path === '/hook')!.body)).toMatchObject({
      event: 'failure',
      command: 'drill',
    });

    const unreachable = await createBackend({
      projectDir: project,
      containers: {},
      settings: { ORKESTRA_NOTIFY: 'http://127.0.0.1:9/hook', ORKESTRA_NOTIFY_ON: 'success', ORKESTRA_NOTIFY_TIMEOUT_SECONDS: '0.2' },
    });
    const events: RunEvent[] = [];
    await unreachable.backup(['secrets'], (event) => events.push(event), new AbortController().signal);
    expect(events.filter((event) => event.type === 'step' && event.message.startsWith('warning:'))).toEqual([
      {
        type: 'step',
        message: expect.stringMatching(
          /^warning: the success notification to http:\/\/127\.0\.0\.1:9 was not delivered \(could not connect/,
        ),
      },
    ]);
  });
});
