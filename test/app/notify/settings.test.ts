import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/base/errors.js';
import { readNotifySettings, shownUrl } from '../../../src/app/notify/settings.js';

const from = (values: Record<string, string>) => (key: string) => values[key];

describe('notification settings', () => {
  it('reads a comma-separated ORKESTRA_NOTIFY, the success switch, the health check and the timeout', () => {
    const settings = readNotifySettings(
      from({
        ORKESTRA_NOTIFY: ' https://hooks.example.com/a , http://127.0.0.1:9/b,',
        ORKESTRA_NOTIFY_ON: 'success',
        ORKESTRA_HEALTHCHECK_URL: 'https://hc-ping.com/uuid',
        ORKESTRA_NOTIFY_TIMEOUT_SECONDS: '0.5',
      }),
    );
    expect(settings.targets.map((url) => url.href)).toEqual(['https://hooks.example.com/a', 'http://127.0.0.1:9/b']);
    expect(settings.onSuccess).toBe(true);
    expect(settings.healthcheck?.href).toBe('https://hc-ping.com/uuid');
    expect(settings.timeoutMs).toBe(500);
  });

  it('tells failures only, within 5 s an attempt, when nothing says otherwise', () => {
    expect(readNotifySettings(from({}))).toEqual({ targets: [], onSuccess: false, healthcheck: undefined, timeoutMs: 5000 });
  });

  it('refuses a URL that is not http(s) or holds a user and password, without showing its token or password', () => {
    const read = () => readNotifySettings(from({ ORKESTRA_NOTIFY: 'https://ok.example.com/x,ftp://files.example.com/t0ken-path' }));
    expect(read).toThrow(UsageError);
    expect(read).toThrow(/entry 2 of ORKESTRA_NOTIFY \(--notify\) is a ftp: URL/);
    const withCredentials = () => readNotifySettings(from({ ORKESTRA_NOTIFY: 'http://hook-user:Wh00k-pw@127.0.0.1:9/x' }));
    expect(withCredentials).toThrow(/entry 1 of ORKESTRA_NOTIFY \(--notify\) holds a user name or password/);
    expect(withCredentials).not.toThrow(/Wh00k-pw/);
    expect(read).not.toThrow(/t0ken/);
    expect(() => readNotifySettings(from({ ORKESTRA_HEALTHCHECK_URL: 'not a url t0ken' }))).toThrow(
      /^ORKESTRA_HEALTHCHECK_URL is not a URL\.$/,
    );
  });

  it('refuses an unknown --notify-on word and a timeout out of range', () => {
    expect(() => readNotifySettings(from({ ORKESTRA_NOTIFY_ON: 'always' }))).toThrow(/--notify-on \(ORKESTRA_NOTIFY_ON\) is "always"/);
    expect(() => readNotifySettings(from({ ORKESTRA_NOTIFY_TIMEOUT_SECONDS: '0' }))).toThrow(UsageError);
    expect(() => readNotifySettings(from({ ORKESTRA_NOTIFY_TIMEOUT_SECONDS: 'soon' }))).toThrow(UsageError);
  });

  it('shows a URL by its scheme and host only', () => {
    expect(shownUrl(new URL('https://user:pw@hooks.slack.com:8443/services/T0/B0/XYZ?token=1'))).toBe('https://hooks.slack.com:8443');
  });
});
