import type { ExecResult } from '../docker/execSession.js';
import { PreconditionError, RuntimeError } from '../base/errors.js';
import { plural } from '../base/format.js';
import { describeExit } from '../base/processes.js';
import { TailBuffer } from '../docker/demux.js';

/** What a tool run reports: its exit code (128 + the signal's number when a signal ended it) and that signal. */
/** Who ran a tool where, as its failures name them. */
export interface ToolIdentity {
  /** "in orkestra-mongodb", "on this host (MONGO_URI)": for messages. */
  readonly where: string;
  readonly username?: string;
  /** What to check when the login fails. */
  readonly loginHint: string;
  /** What to check when the server cannot be reached. */
  readonly reachHint: string;
}

export interface ToolResult extends ExecResult {
  readonly signal?: NodeJS.Signals;
}

/** Secrets shorter than this are left to the patterns: masking every "ab" would garble the line. */
const SHORTEST_LITERAL_SECRET = 4;

/**
 * A line from mongodump or mongorestore with its credentials masked, before it reaches a message,
 * the dry run's report or --json: the real tools print the whole connection string in their
 * connect and authentication errors. `user:password@` becomes `user:***@`, `password=` (and the
 * other secret options of a connection string) become `password=***`, and the secrets given
 * (the password the tool was handed) are masked wherever they appear, plain or URL-encoded.
 */
export function maskCredentials(text: string, secrets: readonly (string | undefined)[] = []): string {
  let masked = text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):[^\s/]*@/gi, '$1$2:***@')
    .replace(/\b(password|pwd|tlsCertificateKeyFilePassword|AWS_SESSION_TOKEN)([=:])[^\s&,;"']*/gi, '$1$2***');
  for (const secret of secrets) {
    if (!secret || secret.length < SHORTEST_LITERAL_SECRET) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) masked = masked.split(form).join('***');
  }
  return masked;
}

/**
 * The last `limit` bytes of a tool's output, for messages, masked as above. When older output
 * was dropped, the first line is cut: a connection string split in the middle would not be
 * recognised, and its password would be shown.
 */
export class ToolOutput {
  private readonly tail: TailBuffer;
  private total = 0;

  constructor(
    private readonly limit: number,
    private readonly secrets: readonly (string | undefined)[],
  ) {
    this.tail = new TailBuffer(limit);
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.tail.push(chunk);
  }

  toString(): string {
    let text = this.tail.toString();
    if (this.total > this.limit) {
      const newline = text.indexOf('\n');
      text = newline === -1 ? '' : text.slice(newline + 1);
    }
    return maskCredentials(text, this.secrets);
  }
}

/**
 * A failed run of a tool, in words: the server gone midway, a refused connection or login, or how
 * it ended; `outcome` (" — what this left") ends the message.
 */
export function toolFailure(tool: string, result: ToolResult, tools: ToolIdentity, outcome = ''): PreconditionError | RuntimeError {
  const restored = restoreCounts(result.stderr)?.restored ?? 0;
  if (restored && serverUnreachable(result.stderr)) {
    return new RuntimeError(
      `${tool} stopped: the MongoDB server ${tools.where} went away after ${plural(restored, 'document')}: ${lastLines(result.stderr, 1)}${outcome}`,
      { hint: tools.reachHint },
    );
  }
  const after = restored ? ` after ${plural(restored, 'document')}` : '';
  return (
    connectionFailure(tool, result, tools, outcome) ??
    new RuntimeError(
      `${tool} ${describeExit(result.exitCode, result.signal)}${after}: ${lastLines(result.stderr) || 'no error output'}${outcome}`,
    )
  );
}

/**
 * The tools connect before they read or write any data: a refused connection or a failed
 * login says nothing about the archive, and names what to fix instead.
 */
export function connectionFailure(tool: string, result: ToolResult, tools: ToolIdentity, outcome = ''): PreconditionError | undefined {
  const detail = lastLines(result.stderr, 1) + outcome;
  if (/AuthenticationFailed|Authentication failed|auth error|unable to authenticate/i.test(result.stderr)) {
    const user = tools.username ? ` as ${tools.username}` : '';
    return new PreconditionError(`${tool} could not log in to MongoDB ${tools.where}${user}: ${detail}`, { hint: tools.loginHint });
  }
  if (serverUnreachable(result.stderr)) {
    return new PreconditionError(`${tool} could not connect to MongoDB ${tools.where}: ${detail}`, { hint: tools.reachHint });
  }
  return undefined;
}

function serverUnreachable(stderr: string): boolean {
  return /error connecting to (host|db server)|server selection (error|timeout)|connection refused|no reachable servers/i.test(stderr);
}

const SUMMARY = /(\d+) document\(s\) restored successfully\. (\d+) document\(s\) failed to restore/;

/** mongorestore's summary line ("3 document(s) restored successfully. 1 document(s) failed to restore."), when it printed one. */
export function restoreCounts(stderr: string): { restored: number; failed: number } | undefined {
  const counts = SUMMARY.exec(stderr);
  return counts ? { restored: Number(counts[1]), failed: Number(counts[2]) } : undefined;
}

/**
 * The last meaningful lines of a tool's stderr, joined on one line for the operator; the count
 * summary is left out (a failure names its count in words).
 */
export function lastLines(stderr: string, count = 2): string {
  return stderr
    .trim()
    .split('\n')
    .map((line) => line.replace(/^\S+T\S+\s+/, '').trim())
    .filter((line) => line && !SUMMARY.test(line))
    .slice(-count)
    .join(' / ');
}
