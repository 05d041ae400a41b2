import { openArchiveArgument } from './archiveArgument.js';
import { findCommand } from './findCommand.js';
import { archivedComponent, COMPONENTS } from '../components/index.js';
import { allProblems, examineArchive, type ExaminedArchive } from '../core/examine.js';
import { UsageError } from '../base/errors.js';
import { asSentence, formatBytes, plural } from '../base/format.js';
import { summarised } from '../core/reports.js';
import type { ParsedCommand } from './args.js';
import type { Terminal } from './terminal.js';
import { monitoredRun, type OutcomeFacts } from './monitoredRun.js';
import type { RunRecorder } from '../app/runRecorder.js';

/** `verify <file>`: exit 0 when the archive is sound, 1 with the list of what is wrong. */
export function verifyCommand(args: ParsedCommand, terminal: Terminal, signal: AbortSignal, recorder: RunRecorder): Promise<number> {
  return monitoredRun('verify', args.common, terminal, signal, (watched, tell) => verify(args, watched, signal, tell, recorder));
}

async function verify(
  args: ParsedCommand,
  terminal: Terminal,
  signal: AbortSignal,
  tell: (facts: OutcomeFacts) => void,
  recorder: RunRecorder,
): Promise<number> {
  const examined = await examine(args, terminal, true, signal);
  const problems = allProblems(examined);
  const count = problems.length + examined.unlistedProblems;
  recorder.verified(examined, problems, count);
  tell({
    archive: examined.file,
    bytes: examined.bytes,
    error: count === 0 ? undefined : `${plural(count, 'problem')}${problems[0] ? `, the first: ${problems[0]}` : ''}`,
  });
  if (args.common.json) {
    const unlisted = examined.unlistedProblems;
    terminal.out(`${JSON.stringify({ ok: count === 0, archive: examined.file, problems, unlisted, ...reportJson(examined) }, null, 2)}\n`);
  } else {
    const lines = [`${examined.name} (${formatBytes(examined.bytes)})`, ...describe(examined)];
    lines.push('', count === 0 ? 'Result: sound.' : `Result: ${plural(count, 'problem')}:`);
    const more = examined.unlistedProblems > 0 ? 'problems (--json lists the first 1,000)' : 'problems (--json lists them all)';
    for (const problem of summarised(problems, more, 100, count)) lines.push(`  - ${problem}`);
    terminal.out(`${lines.join('\n')}\n`);
  }
  if (problems.some((problem) => problem.includes('damaged or hostile archive'))) return 2; // refused as bad input
  return count === 0 ? 0 : 1;
}

/** `inspect <file>`: what the archive holds, from the archive alone; with --find, the items whose name matches. */
export async function inspectCommand(args: ParsedCommand, terminal: Terminal, signal: AbortSignal): Promise<number> {
  if (args.find) return findCommand(args, args.find, terminal, signal);
  const examined = await examine(args, terminal, false, signal);
  if (args.common.json) {
    const problems = allProblems(examined);
    terminal.out(`${JSON.stringify({ ok: problems.length === 0, archive: examined.file, problems, ...reportJson(examined) }, null, 2)}\n`);
  } else {
    const problems = allProblems(examined);
    const lines = [`${examined.name} (${formatBytes(examined.bytes)})`, ...describe(examined)];
    if (problems.length > 0) {
      lines.push('', 'Problems seen (run verify for a full check):');
      for (const problem of summarised(problems, 'problems', 100)) lines.push(`  - ${problem}`);
    }
    terminal.out(`${lines.join('\n')}\n`);
  }
  return examined.sizeMismatch ? 1 : 0; // a cut archive is a problem verify exits 1 on
}

async function examine(args: ParsedCommand, terminal: Terminal, checkEveryFile: boolean, signal: AbortSignal): Promise<ExaminedArchive> {
  const { location, setting, onEvent } = await openArchiveArgument(args, terminal, signal);
  let examined: ExaminedArchive;
  try {
    examined = await examineArchive(location, { components: COMPONENTS, fromArchive: archivedComponent, setting, onEvent, checkEveryFile });
  } finally {
    await location.close();
  }
  // Not an archive at all (no manifest to read): a bad archive, exit 2, as restore says.
  if (!examined.manifest) {
    throw new UsageError(asSentence(examined.archiveProblems[0] ?? `${examined.name} is not a backup archive`), {
      hint: 'Pass a file made by orkestra-backup backup.',
    });
  }
  return examined;
}

function describe(examined: ExaminedArchive): string[] {
  const { manifest } = examined;
  if (!manifest) return [];
  const tool = manifest.tool ? `${manifest.tool.name} ${manifest.tool.version}` : 'the original backup.sh';
  const lines = [
    `  created ${manifest.createdAt} on ${manifest.host || 'an unknown host'} by ${tool}`,
    `  environment ${manifest.environment}; components: ${manifest.components.join(', ') || 'none'}`,
  ];
  if (examined.encryption) lines.push(`  encrypted: ${examined.encryption}`);
  if (manifest.split) lines.push(`  the ${manifest.split} half of a split backup (backupId ${manifest.backupId ?? 'none'})`);
  const fingerprinted = Object.keys(manifest.keyFingerprints?.keys ?? {});
  if (fingerprinted.length > 0)
    lines.push(`  encryption keys fingerprinted: ${fingerprinted.join(', ')} (names only; checked before a mongodb restore)`);
  for (const { name, report } of examined.components) {
    lines.push('', name);
    for (const line of summarised(report?.lines ?? ['(not known to this version)'], 'lines (--json lists them all)'))
      lines.push(`  ${line}`);
  }
  return lines;
}

function reportJson(examined: ExaminedArchive) {
  const { manifest } = examined;
  return {
    bytes: examined.bytes,
    encryption: examined.encryption ?? null,
    manifest: manifest && {
      schema: manifest.schema,
      createdAt: manifest.createdAt,
      environment: manifest.environment,
      host: manifest.host,
      components: manifest.components,
      tool: manifest.tool,
      files: examined.files,
      fingerprintedKeys: Object.keys(manifest.keyFingerprints?.keys ?? {}),
      backupId: manifest.backupId,
      split: manifest.split,
    },
    components: Object.fromEntries(examined.components.map(({ name, report }) => [name, report?.facts ?? null])),
  };
}
