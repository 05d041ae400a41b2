import { UsageError } from '../../base/errors.js';

/** Where the outcome of a run is told, read from the settings (flags, docker/.env, the environment). */
export interface NotifySettings {
  /** Incoming-webhook URLs: ORKESTRA_NOTIFY (comma-separated) or --notify. */
  readonly targets: readonly URL[];
  /** Successes are told too (ORKESTRA_NOTIFY_ON=success, --notify-on success); failures and anomalies always are. */
  readonly onSuccess: boolean;
  /** A healthchecks.io-style check URL: ORKESTRA_HEALTHCHECK_URL. */
  readonly healthcheck?: URL;
  /** ORKESTRA_NOTIFY_TIMEOUT_SECONDS: how long one attempt at a delivery waits for an answer. */
  readonly timeoutMs: number;
}

export const NOTIFY_SETTINGS = {
  targets: 'ORKESTRA_NOTIFY',
  on: 'ORKESTRA_NOTIFY_ON',
  healthcheck: 'ORKESTRA_HEALTHCHECK_URL',
  timeout: 'ORKESTRA_NOTIFY_TIMEOUT_SECONDS',
} as const;

const DEFAULT_TIMEOUT_SECONDS = 5;
const NOTIFY_ON = ['failure', 'success'] as const;

/**
 * The settings, checked before the run starts: a URL that is not http(s) or a word --notify-on
 * does not know is a usage error. A URL carries its token in its path or query, so a message
 * names only its scheme and host.
 */
export function readNotifySettings(setting: (key: string) => string | undefined): NotifySettings {
  const targets = (setting(NOTIFY_SETTINGS.targets) ?? '')
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry, index) => parseUrl(entry, `entry ${index + 1} of ${NOTIFY_SETTINGS.targets} (--notify)`));
  const on = setting(NOTIFY_SETTINGS.on) ?? 'failure';
  if (!(NOTIFY_ON as readonly string[]).includes(on)) {
    throw new UsageError(`--notify-on (${NOTIFY_SETTINGS.on}) is "${on}", which is not one of ${NOTIFY_ON.join(', ')}.`, {
      hint: 'Failures and anomalies are always told; --notify-on success tells successes too.',
    });
  }
  const healthcheck = setting(NOTIFY_SETTINGS.healthcheck);
  return {
    targets,
    onSuccess: on === 'success',
    healthcheck: healthcheck === undefined ? undefined : parseUrl(healthcheck.trim(), NOTIFY_SETTINGS.healthcheck),
    timeoutMs: timeoutSeconds(setting(NOTIFY_SETTINGS.timeout)) * 1000,
  };
}

/** "https://hooks.slack.com": enough to say where, never the token of the path or query. */
export function shownUrl(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

function parseUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${what} is not a URL.`, { hint: 'Give a full http:// or https:// URL.' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${what} is a ${url.protocol.replace(/:$/, '')}: URL; only http:// and https:// are posted to.`, {
      hint: 'Give the https:// URL of an incoming webhook or a health check.',
    });
  }
  // fetch refuses a URL with credentials in it: said now, rather than as a delivery that never happens.
  if (url.username !== '' || url.password !== '') {
    throw new UsageError(`${what} holds a user name or password (user:password@host), which webhooks are never posted with.`, {
      hint: 'Give the URL with its token in the path or query, as webhook and health-check services issue them.',
    });
  }
  return url;
}

function timeoutSeconds(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TIMEOUT_SECONDS;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 60) {
    throw new UsageError(`${NOTIFY_SETTINGS.timeout} is "${value}"; it needs a number of seconds above 0, at most 60.`, {
      hint: `The default is ${DEFAULT_TIMEOUT_SECONDS}.`,
    });
  }
  return seconds;
}
