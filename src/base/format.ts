import prettyBytes from 'pretty-bytes';

/** Sizes, rates and durations as the operator reads them in the CLI, the TUI and reports. */
export function formatBytes(bytes: number): string {
  return prettyBytes(bytes, { maximumFractionDigits: 1 });
}

/** "50 MB of 200 MB (25%)" with an estimate, "1.2 kB" without one. */
export function formatProgressAmount(bytes: number, totalBytes: number | undefined): string {
  if (totalBytes === undefined) return formatBytes(bytes);
  return `${formatBytes(bytes)} of ${formatBytes(totalBytes)} (${Math.floor((100 * bytes) / totalBytes)}%)`;
}

/** "1 file", "2 files", "1,204 objects". */
export function plural(count: number, word: string): string {
  return `${count.toLocaleString('en-US')} ${word}${count === 1 ? '' : 's'}`;
}

export function formatRate(bytes: number, elapsedMs: number): string {
  if (elapsedMs < 50) return '';
  return `${prettyBytes((bytes * 1000) / elapsedMs, { maximumFractionDigits: 1 })}/s`;
}

export function formatDuration(elapsedMs: number): string {
  if (elapsedMs < 10_000) return `${(elapsedMs / 1000).toFixed(1)} s`;
  const seconds = Math.round(elapsedMs / 1000);
  const minutes = Math.floor(seconds / 60);
  return minutes === 0 ? `${seconds} s` : `${minutes} min ${String(seconds % 60).padStart(2, '0')} s`;
}

/**
 * Text from an archive (entry names, manifest fields, keys) made safe to show: control
 * characters and bidirectional overrides become visible escapes, so a crafted name cannot
 * clear the screen or forge lines in a report or the restore gate. Newlines and tabs stay.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// C0 controls but tab and newline, DEL, C1 controls, and the bidi embedding/override/isolate marks.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** A name from an archive on one row of a list: `printable`, and its newlines and tabs escaped too. */
export function printableName(name: string): string {
  return printable(name).replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

/**
 * A value as it is typed on a command line: bare when plain, else in single quotes a shell reads
 * back unchanged. Control characters are shown escaped (`printableName`), never sent to the terminal.
 */
export function shellWord(value: string): string {
  return /^[\w./:@%+=,-]+$/.test(value) ? value : `'${printableName(value).replaceAll("'", `'\\''`)}'`;
}

/** The first line of a message that may run over several (a tool's stderr, a server's error). */
export function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/**
 * Text ended as one sentence: a period added unless it ends in one already. For text that
 * ends a message but comes from elsewhere (a failure, a tool's line), which may carry its own.
 */
export function asSentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** "x failed." → "x failed": a message that goes inside another sentence. */
export function withoutFinalPeriod(text: string): string {
  return text.replace(/\.$/, '');
}
