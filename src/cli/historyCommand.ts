import { posix, resolve } from 'node:path';
import { openOffsite, openSessionProject } from '../app/session.js';
import { UsageError } from '../base/errors.js';
import { formatBytes, formatDuration, printable } from '../base/format.js';
import { readHistoryCopies } from '../core/history/historyCopy.js';
import { historyPath, readHistory } from '../core/history/historyFile.js';
import type { HistoryRecord } from '../model/history.js';
import { isOffsiteUrl, offsiteUrlText, parseOffsiteFolder } from '../s3/offsite/offsiteUrl.js';
import type { ParsedCommand } from './args.js';
import { createLineReporter } from './reporter.js';
import { commandSettings } from './settings.js';
import type { Terminal } from './terminal.js';

/** How many runs `history` shows without --limit. */
const DEFAULT_LIMIT = 20;

/**
 * `history [folder|s3://bucket/prefix/] [--json] [--limit N]`: the newest runs of backup,
 * restore, drill, verify and prune, oldest first so the last line is the latest run. Reads the
 * project's backups/ history by default, a folder's history file, or the record copies the
 * backups to an s3:// folder stored beside their archives. Needs no Docker.
 */
export async function historyCommand(args: ParsedCommand, terminal: Terminal, signal: AbortSignal): Promise<number> {
  const [folder, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}".`, { hint: 'Give at most one folder or s3:// prefix.' });
  const limit = args.limit ?? DEFAULT_LIMIT;
  const { where, records, unreadable } = await readRuns(folder, args, terminal, signal, limit);
  if (args.common.json) {
    terminal.out(`${JSON.stringify({ history: where, records, unreadable }, null, 2)}\n`);
    return 0;
  }
  if (records.length === 0) {
    terminal.out(`No runs recorded yet in ${where}.\n`);
    return 0;
  }
  terminal.out(historyTable(records));
  const skipped = unreadable > 0 ? ` ${unreadable} unreadable line(s) skipped.` : '';
  terminal.err(`${records.length} most recent run(s) of ${where}, newest last.${skipped}\n`);
  return 0;
}

async function readRuns(folder: string | undefined, args: ParsedCommand, terminal: Terminal, signal: AbortSignal, limit: number) {
  if (folder !== undefined && isOffsiteUrl(folder)) {
    const url = parseOffsiteFolder(folder);
    const store = openOffsite(await commandSettings(args.common), createLineReporter(terminal.errRaw, terminal.stderrIsTTY), signal);
    try {
      await store.checkBucket(url.bucket);
      return { where: offsiteUrlText(url), ...(await readHistoryCopies(store, url, limit)) };
    } finally {
      store.destroy();
    }
  }
  const path = historyPath(folder === undefined ? (await openSessionProject(args.common)).backupsDir : resolve(folder));
  return { where: path, ...(await readHistory(path, limit)) };
}

const HEADINGS = ['WHEN (UTC)', 'COMMAND', 'RESULT', 'ARCHIVE', 'SIZE', 'DURATION', 'ANOMALIES'];

/** One row per run, columns aligned; a failure's reason on the line below its row. */
function historyTable(records: readonly HistoryRecord[]): string {
  const rows = records.map(rowOf);
  const widths = HEADINGS.map((heading, column) => Math.max(heading.length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  const lines = [line(HEADINGS)];
  records.forEach((record, index) => {
    lines.push(line(rows[index]));
    // A selective drill proves its selection only: said, so that its "ok" is not read as a whole drill's.
    if (record.drillSelection) lines.push(`    selective drill: ${selectionLine(record.drillSelection)}`);
    if (record.error) lines.push(`    ${record.error}`);
  });
  return `${lines.join('\n')}\n`;
}

function selectionLine(selection: NonNullable<HistoryRecord['drillSelection']>): string {
  const parts = Object.entries(selection).map(([name, flags]) =>
    [
      name,
      ...Object.entries(flags).flatMap(([flag, values]) =>
        values.length === 0 ? [`--${flag}`] : values.map((value) => `--${flag} ${value}`),
      ),
    ].join(' '),
  );
  return printable(parts.join('; '));
}

function rowOf(record: HistoryRecord): string[] {
  const archives = record.archives ?? [];
  const name =
    archives.length === 0 ? '-' : posix.basename(archives[0].location) + (archives.length > 1 ? ` (+${archives.length - 1})` : '');
  const sized = archives.filter((archive) => archive.bytes !== undefined);
  const bytes = sized.reduce((sum, archive) => sum + archive.bytes!, 0);
  const elapsedMs = Date.parse(record.endedAt) - Date.parse(record.startedAt);
  return [
    record.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    record.command,
    record.result === 'success' ? 'ok' : `FAILED (exit ${record.exitCode})`,
    name,
    sized.length === 0 ? '-' : formatBytes(bytes),
    Number.isFinite(elapsedMs) ? formatDuration(Math.max(0, elapsedMs)) : '-',
    record.anomalies === undefined ? '-' : String(record.anomalies.length),
  ];
}
