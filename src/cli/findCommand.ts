import { archivedComponent, COMPONENTS } from '../components/index.js';
import { findInArchive, matchCount, type ArchiveSearch, type FoundMatch } from '../core/find.js';
import { UsageError } from '../base/errors.js';
import { asSentence, formatBytes, printable } from '../base/format.js';
import { nameMatcher } from '../base/globMatch.js';
import { summarised } from '../core/reports.js';
import { openArchiveArgument } from './archiveArgument.js';
import type { ParsedCommand } from './args.js';
import type { Terminal } from './terminal.js';

/**
 * `inspect <file> --find <glob>`: the collections, Redis keys, objects and files whose name
 * matches, where each lives and its size. Exit 0 when something matches, 1 when nothing does
 * (as grep), 2 when the file is not a backup archive.
 */
export async function findCommand(
  args: ParsedCommand,
  find: { pattern: string; limit: number },
  terminal: Terminal,
  signal: AbortSignal,
): Promise<number> {
  const matches = globMatcher(find.pattern);
  const { location, setting, onEvent } = await openArchiveArgument(args, terminal, signal);
  let search: ArchiveSearch;
  try {
    search = await findInArchive(location, {
      components: COMPONENTS,
      fromArchive: archivedComponent,
      setting,
      onEvent,
      matches,
      limit: find.limit,
    });
  } finally {
    await location.close();
  }
  if (!search.manifest) {
    throw new UsageError(asSentence(search.problems[0] ?? `${search.name} is not a backup archive`), {
      hint: 'Pass a file made by orkestra-backup backup.',
    });
  }
  const unsearched = search.components.filter((component) => component.unsearched !== undefined);
  if (args.common.json) {
    const json = {
      ok: search.problems.length === 0,
      archive: search.file,
      pattern: find.pattern,
      matches: search.shown,
      total: search.total,
      more: search.total - search.shown.length,
      components: Object.fromEntries(
        search.components
          .filter((component) => component.unsearched === undefined)
          .map(({ name, matches: count, bytes }) => [name, { matches: count, bytes }]),
      ),
      unsearched: Object.fromEntries(unsearched.map(({ name, unsearched: why }) => [name, why])),
      problems: search.problems,
    };
    terminal.out(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    terminal.out(`${describe(search, find).join('\n')}\n`);
  }
  return search.total > 0 ? 0 : 1;
}

function globMatcher(pattern: string): (name: string) => boolean {
  try {
    return nameMatcher(pattern);
  } catch (error) {
    throw new UsageError(`--find ${JSON.stringify(pattern)} is not a glob this tool can read (${(error as Error).message}).`, {
      hint: 'Quote the glob: --find "session:*".',
    });
  }
}

function describe(search: ArchiveSearch, find: { pattern: string; limit: number }): string[] {
  const quoted = JSON.stringify(find.pattern);
  const lines: string[] = [];
  if (search.total === 0) {
    lines.push(`Nothing in ${search.name} matches ${quoted} (names are case-sensitive; * stays within one /, ** crosses it).`);
  } else {
    lines.push(`${matchCount(search.total)} of ${quoted} in ${search.name}:`, ...table(search.shown));
    const more = search.total - search.shown.length;
    if (more > 0) lines.push(`  … and ${more.toLocaleString('en-US')} more (--limit ${find.limit} shows the first ${find.limit})`);
    const found = search.components.filter((component) => component.matches > 0);
    lines.push(
      `In all: ${found.map((component) => `${component.name} ${matchCount(component.matches)}, ${formatBytes(component.bytes)}`).join('; ')}`,
    );
  }
  for (const component of search.components) {
    if (component.unsearched !== undefined) lines.push(`Not searched: ${component.name} (${component.unsearched})`);
  }
  if (search.problems.length > 0) {
    lines.push('', 'Problems seen (run verify for a full check):');
    for (const problem of summarised(search.problems, 'problems', 100)) lines.push(`  - ${problem}`);
  }
  return lines;
}

/** One line per match, in columns: component, where, what, name, detail, size. */
function table(matches: readonly FoundMatch[]): string[] {
  const rows = matches.map((match) => [
    match.component,
    `${match.group.kind} ${oneLine(match.group.name)}`,
    match.kind,
    oneLine(match.name),
    oneLine(match.detail ?? ''),
    formatBytes(match.bytes),
  ]);
  const widths = rows.reduce((most, row) => most.map((width, column) => Math.max(width, row[column].length)), [0, 0, 0, 0, 0, 0]);
  // A column empty on every row (no detail to give) takes no room.
  const kept = widths.flatMap((width, column) => (width > 0 ? [column] : []));
  return rows.map(
    (row) => `  ${kept.map((column, place) => (place === kept.length - 1 ? row[column] : row[column].padEnd(widths[column]))).join('  ')}`,
  );
}

/** A name from the archive on one line: control characters, tabs and newlines escaped. */
function oneLine(text: string): string {
  return printable(text).replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}
