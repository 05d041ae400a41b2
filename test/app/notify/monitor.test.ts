import { afterEach, describe, expect, it } from 'vitest';
import { startRunMonitor, type MonitorOptions } from '../../../src/app/notify/index.js';
import { readNotifySettings } from '../../../src/app/notify/settings.js';
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from '../../helpers/webhookReceiver.js';

const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

async function receiver(answer?: (request: ReceivedRequest) => number | 'hang'): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver(answer);
  receivers.push(started);
  return started;
}

function monitorOptions(settings: Record<string, string>, warnings: string[], pingsHealthcheck = true): MonitorOptions {
  return {
    settings: readNotifySettings((key) => settings[key]),
    context: { command: 'backup', environment: 'production', host: 'db1' },
    secrets: ['hunter2-secret'],
    pingsHealthcheck,
    warn: (line) => warnings.push(line),
  };
}

describe('the run monitor against a loopback receiver', () => {
  it('posts a failure to every webhook, and pings /start then /fail with the report lines, secrets masked', async () => {
    const hooks = await receiver();
    const warnings: string[] = [];
    const monitor = startRunMonitor(
      monitorOptions(
        { ORKESTRA_NOTIFY: `${hooks.origin}/one,${hooks.origin}/two`, ORKESTRA_HEALTHCHECK_URL: `${hooks.origin}/ping/uuid` },
        warnings,
      ),
    );
    monitor.tail.push('Backing up redis\nredis: login hunter2-secret refused\n');
    await monitor.finish({ exitCode: 1, error: 'cannot back up redis (password hunter2-secret refused)' });
    const paths = hooks.requests.map((request) => request.path);
    expect(paths[0]).toBe('/ping/uuid/start');
    expect([...paths.slice(1)].sort()).toEqual(['/one', '/ping/uuid/fail', '/two']);
    const posted = hooks.requests.find((request) => request.path === '/one')!;
    expect(posted.contentType).toBe('application/json');
    expect(JSON.parse(posted.body)).toMatchObject({ event: 'failure', exitCode: 1, error: 'cannot back up redis (password *** refused)' });
    const fail = hooks.requests.find((request) => request.path === '/ping/uuid/fail')!;
    expect(fail.body).toBe('Backing up redis\nredis: login *** refused');
    for (const request of hooks.requests) expect(request.body).not.toContain('hunter2-secret');
    expect(warnings).toEqual([]);
  });

  it('posts a success only when asked, and an anomaly always', async () => {
    const hooks = await receiver();
    const quiet = startRunMonitor(monitorOptions({ ORKESTRA_NOTIFY: `${hooks.origin}/hook` }, []));
    await quiet.finish({ exitCode: 0, archive: '/b/a.tar.gz', bytes: 10 });
    expect(hooks.requests).toEqual([]);
    const anomaly = startRunMonitor(monitorOptions({ ORKESTRA_NOTIFY: `${hooks.origin}/hook` }, []));
    await anomaly.finish({ exitCode: 0, anomalies: ['mongodb: collection orkestra.users became empty'] });
    expect(JSON.parse(hooks.requests[0].body)).toMatchObject({
      event: 'anomaly',
      anomalies: ['mongodb: collection orkestra.users became empty'],
    });
    const told = startRunMonitor(monitorOptions({ ORKESTRA_NOTIFY: `${hooks.origin}/hook`, ORKESTRA_NOTIFY_ON: 'success' }, []));
    await told.finish({ exitCode: 0 });
    expect(JSON.parse(hooks.requests[1].body)).toMatchObject({ event: 'success' });
  });

  it('pings the bare check URL on success, keeping its query, and no check at all for a command that does not ping', async () => {
    const hooks = await receiver();
    const monitor = startRunMonitor(monitorOptions({ ORKESTRA_HEALTHCHECK_URL: `${hooks.origin}/ping/key/slug?create=1` }, []));
    await monitor.finish({ exitCode: 0 });
    expect(hooks.requests.map((request) => request.path)).toEqual(['/ping/key/slug/start?create=1', '/ping/key/slug?create=1']);
    const verify = startRunMonitor(monitorOptions({ ORKESTRA_HEALTHCHECK_URL: `${hooks.origin}/ping/other` }, [], false));
    await verify.finish({ exitCode: 1 });
    expect(hooks.requests).toHaveLength(2);
  });

  it('retries a 5xx answer and delivers; a 4xx answer is not retried and is one warning', async () => {
    let answers = 0;
    const flaky = await receiver(() => (++answers === 1 ? 503 : 200));
    const warnings: string[] = [];
    await startRunMonitor(monitorOptions({ ORKESTRA_NOTIFY: `${flaky.origin}/hook` }, warnings)).finish({ exitCode: 1 });
    expect(flaky.requests).toHaveLength(2);
    expect(warnings).toEqual([]);
    const gone = await receiver(() => 404);
    await startRunMonitor(monitorOptions({ ORKESTRA_NOTIFY: `${gone.origin}/hook/t0ken` }, warnings)).finish({ exitCode: 1 });
    expect(gone.requests).toHaveLength(1);
    expect(warnings).toEqual([
      `warning: the failure notification to ${gone.origin} was not delivered (answered HTTP 404); the run's result is unchanged.`,
    ]);
  });

  it('gives up on a receiver that never answers after three attempts of the timeout each, with one warning', async () => {
    const hanging = await receiver(() => 'hang');
    const warnings: string[] = [];
    const started = Date.now();
    await startRunMonitor(
      monitorOptions({ ORKESTRA_NOTIFY: `${hanging.origin}/hook/t0ken`, ORKESTRA_NOTIFY_TIMEOUT_SECONDS: '0.3' }, warnings),
    ).finish({ exitCode: 1 });
    const elapsed = Date.now() - started;
    expect(hanging.requests).toHaveLength(3);
    // Three attempts of 0.3 s and pauses of 1 s and 2 s.
    expect(elapsed).toBeGreaterThanOrEqual(3_800);
    expect(elapsed).toBeLessThan(10_000);
    expect(warnings).toEqual([
      `warning: the failure notification to ${hanging.origin} was not delivered (no answer within 0.3 s); the run's result is unchanged.`,
    ]);
  });
});
