import { basename } from 'node:path';
import { formatBytes, formatDuration } from '../../base/format.js';
import { TOOL_NAME, TOOL_VERSION } from '../../core/version.js';

/** How a run ended, as the command that ran it tells the notifier. */
export interface RunOutcome {
  readonly exitCode: number;
  /** One line: what failed (the error the run printed, or what made it exit non-zero). */
  readonly error?: string;
  /** The archive made, checked or drilled: a path or an s3:// URL. */
  readonly archive?: string;
  readonly bytes?: number;
  /** What the anomaly checks found; any makes the message an anomaly, even on success. */
  readonly anomalies?: readonly string[];
}

/** Who ran what, where: the fields every message shares. */
export interface RunContext {
  readonly command: string;
  readonly environment: string;
  readonly host: string;
}

export type NotifyEvent = 'failure' | 'anomaly' | 'success';

/** The JSON posted to a webhook: `text` for Slack/Mattermost-style receivers, the rest for programs. */
export interface NotifyMessage {
  readonly text: string;
  readonly event: NotifyEvent;
  readonly tool: string;
  readonly version: string;
  readonly command: string;
  readonly environment: string;
  readonly host: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  readonly exitCode: number;
  readonly archive: string | null;
  readonly bytes: number | null;
  readonly error: string | null;
  readonly anomalies: readonly string[];
}

/** At most this many anomalies are spelled out in `text`; all are in `anomalies`. */
const TEXT_ANOMALIES = 10;

export function eventOf(outcome: RunOutcome): NotifyEvent {
  if (outcome.exitCode !== 0) return 'failure';
  return (outcome.anomalies?.length ?? 0) > 0 ? 'anomaly' : 'success';
}

export function notifyMessage(context: RunContext, outcome: RunOutcome, startedAt: Date, finishedAt: Date): NotifyMessage {
  const event = eventOf(outcome);
  const elapsedMs = finishedAt.getTime() - startedAt.getTime();
  const anomalies = [...(outcome.anomalies ?? [])];
  return {
    text: messageText(event, context, outcome, elapsedMs),
    event,
    tool: TOOL_NAME,
    version: TOOL_VERSION,
    command: context.command,
    environment: context.environment,
    host: context.host,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.round(elapsedMs) / 1000,
    exitCode: outcome.exitCode,
    archive: outcome.archive ?? null,
    bytes: outcome.bytes ?? null,
    error: outcome.error ?? (event === 'failure' ? `exited with code ${outcome.exitCode}` : null),
    anomalies,
  };
}

/** "orkestra-backup backup FAILED on db1 (production) after 3.2 s: cannot back up redis (…)". */
function messageText(event: NotifyEvent, context: RunContext, outcome: RunOutcome, elapsedMs: number): string {
  const head = `${TOOL_NAME} ${context.command} ${EVENT_WORDS[event]} on ${context.host} (${context.environment}) after ${formatDuration(elapsedMs)}`;
  const archive = outcome.archive === undefined ? '' : basename(outcome.archive);
  const size = outcome.bytes === undefined ? '' : `, ${formatBytes(outcome.bytes)}`;
  const lines = [event === 'failure' ? `${head}: ${outcome.error ?? `exited with code ${outcome.exitCode}`}` : head];
  if (archive) lines.push(`Archive: ${archive}${size}`);
  const anomalies = outcome.anomalies ?? [];
  if (anomalies.length > 0) {
    lines.push(`${anomalies.length === 1 ? '1 anomaly' : `${anomalies.length.toLocaleString('en-US')} anomalies`}:`);
    for (const anomaly of anomalies.slice(0, TEXT_ANOMALIES)) lines.push(`• ${anomaly}`);
    if (anomalies.length > TEXT_ANOMALIES) lines.push(`… and ${anomalies.length - TEXT_ANOMALIES} more`);
  }
  return lines.join('\n');
}

const EVENT_WORDS: Record<NotifyEvent, string> = {
  failure: 'FAILED',
  anomaly: 'succeeded with anomalies',
  success: 'succeeded',
};
