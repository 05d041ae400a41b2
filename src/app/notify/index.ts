import { hostname } from 'node:os';
import { describeError, exitCodeFor } from '../../base/errors.js';
import { TOOL_NAME } from '../../core/version.js';
import type { EventListener } from '../../model/events.js';
import { deliver } from './delivery.js';
import { eventOf, notifyMessage, type RunContext, type RunOutcome } from './message.js';
import { ReportTail } from './reportTail.js';
import { scrubbed, secretValues } from './secretValues.js';
import { readNotifySettings, shownUrl, type NotifySettings } from './settings.js';

export type { RunContext, RunOutcome, NotifyMessage } from './message.js';

export interface MonitorOptions {
  readonly settings: NotifySettings;
  readonly context: RunContext;
  /** Values never to show (secretValues). */
  readonly secrets: readonly string[];
  /** Whether this command pings the health check: backups and drills do, a check of an archive does not. */
  readonly pingsHealthcheck: boolean;
  /** Prints one line for the operator (a message that could not be delivered). */
  readonly warn: (line: string) => void;
}

/** One run being watched: what it prints goes into `tail`; `finish` tells its outcome. */
export interface RunMonitor {
  readonly tail: ReportTail;
  finish(outcome: RunOutcome): Promise<void>;
}

const HEALTHCHECK_START = 'start';
const HEALTHCHECK_FAIL = 'fail';

/**
 * Starts watching a run: pings the health check's /start (without holding the run up) and, at
 * `finish`, posts the message to every webhook (failures and anomalies; successes when asked)
 * and pings the health check's bare URL or /fail with the report's last lines. Delivery never
 * throws: what cannot be delivered is one warning line.
 */
export function startRunMonitor(options: MonitorOptions): RunMonitor {
  const { settings, context, secrets, warn } = options;
  const startedAt = new Date();
  const tail = new ReportTail(secrets);
  const healthcheck = options.pingsHealthcheck ? settings.healthcheck : undefined;
  const send = async (url: URL, what: string, body: string, contentType: string) => {
    const failure = await deliver({ url, body, contentType }, settings.timeoutMs);
    if (failure !== undefined) {
      warn(`warning: the ${what} to ${shownUrl(url)} was not delivered (${failure}); the run's result is unchanged.`);
    }
  };
  const started = healthcheck ? send(healthcheckPath(healthcheck, HEALTHCHECK_START), 'health-check start ping', '', TEXT) : undefined;
  return {
    tail,
    async finish(outcome) {
      // The start ping is answered first: a receiver sees /start before the run's end.
      await started;
      const event = eventOf(outcome);
      const message = scrubbed(notifyMessage(context, outcome, startedAt, new Date()), secrets);
      const deliveries: Promise<void>[] = [];
      if (event !== 'success' || settings.onSuccess) {
        const body = JSON.stringify(message);
        for (const target of settings.targets) deliveries.push(send(target, `${event} notification`, body, JSON_TYPE));
      }
      if (healthcheck) {
        deliveries.push(
          outcome.exitCode === 0
            ? send(healthcheck, 'health-check success ping', message.text, TEXT)
            : send(healthcheckPath(healthcheck, HEALTHCHECK_FAIL), 'health-check failure ping', tail.lines() || message.text, TEXT),
        );
      }
      await Promise.all(deliveries);
    },
  };
}

const JSON_TYPE = 'application/json';
const TEXT = 'text/plain; charset=utf-8';

/** `<check URL>/start`, `<check URL>/fail`: the path grows, a query (`?create=1`) stays. */
function healthcheckPath(check: URL, signal: string): URL {
  const url = new URL(check);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${signal}`;
  return url;
}

/** Where a run's settings come from: the project when there is one, else the flags and the environment. */
export interface MonitorSource {
  readonly setting: (key: string) => string | undefined;
  /** The project's docker/ folder (its .env holds the secrets to mask); undefined outside a project. */
  readonly dockerDir?: string;
  readonly environment: string;
}

/**
 * The monitor of a run when notifications or a health check are set, else undefined (nothing is
 * sent, nothing is kept). A bad setting is a usage error, raised before the run starts.
 */
export async function openRunMonitor(
  command: string,
  source: MonitorSource,
  options: { pingsHealthcheck: boolean; warn: (line: string) => void },
): Promise<RunMonitor | undefined> {
  const settings = readNotifySettings(source.setting);
  if (settings.targets.length === 0 && settings.healthcheck === undefined) return undefined;
  const urls = settings.healthcheck ? [...settings.targets, settings.healthcheck] : settings.targets;
  return startRunMonitor({
    settings,
    context: { command, environment: source.environment, host: hostname() },
    secrets: await secretValues(source.dockerDir, process.env, urls),
    pingsHealthcheck: options.pingsHealthcheck,
    warn: options.warn,
  });
}

/** How a watched run's outcome is found: from its result, or from what was known when it threw. */
export interface OutcomeOf<T> {
  readonly result: (result: T) => RunOutcome;
  /** The facts known so far (the archive written before a later step failed). */
  readonly known?: () => Omit<RunOutcome, 'exitCode'>;
  /** The error the operator is told of (after an interrupt, its reason rather than what it caused). */
  readonly reported?: (error: unknown) => unknown;
}

/**
 * Runs `work` under a monitor (none: just runs it) and tells its outcome; a thrown error's line
 * ends the report. The result and the error are passed on unchanged.
 */
export async function watchRun<T>(monitor: RunMonitor | undefined, work: () => Promise<T>, outcome: OutcomeOf<T>): Promise<T> {
  if (!monitor) return work();
  let result: T;
  try {
    result = await work();
  } catch (error) {
    const told = outcome.reported ? outcome.reported(error) : error;
    const line = describeError(told);
    monitor.tail.push(`${TOOL_NAME}: ${line}\n`);
    await monitor.finish({ ...outcome.known?.(), exitCode: exitCodeFor(told), error: line });
    throw error;
  }
  await monitor.finish(outcome.result(result));
  return result;
}

/** Events as report lines for a monitor's tail, where no stderr holds them (the interactive interface). */
export function reportingTo(monitor: RunMonitor | undefined, onEvent: EventListener): EventListener {
  if (!monitor) return onEvent;
  return (event) => {
    if (event.type === 'step') monitor.tail.push(`${event.message}\n`);
    else if (event.type === 'component-failed') monitor.tail.push(`${event.component}: FAILED — ${event.message}\n`);
    onEvent(event);
  };
}
