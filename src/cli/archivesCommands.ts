import { resolve } from 'node:path';
import { openOffsite, openSessionProject } from '../app/session.js';
import { localShelf, offsiteShelf, type ArchiveShelf } from '../core/archiveShelf.js';
import { isOffsiteUrl, parseOffsiteFolder } from '../s3/offsite/offsiteUrl.js';
import { commandSettings } from './settings.js';
import { createLineReporter } from './reporter.js';
import { UsageError } from '../base/errors.js';
import { formatBytes } from '../base/format.js';
import { listArchives, type ArchiveListing } from '../core/archiveListing.js';
import { NEWEST_GOOD_REASON, planPrune, runPrune, type PrunePlan } from '../core/prune.js';
import { historyPath, readHistory } from '../core/history/historyFile.js';
import { historyVerdicts } from '../core/health/baseline.js';
import { requireSomeRule } from '../core/retention.js';
import type { ParsedCommand } from './args.js';
import type { Terminal } from './terminal.js';
import { terminalKeyring } from './keyring.js';
import { settingsKeyring } from '../core/archiveKeys.js';
import type { RunRecorder } from '../app/runRecorder.js';

/** `list [folder]`: the archives of a folder (default ./backups), newest first, from their manifests alone. */
export async function listCommand(args: ParsedCommand, terminal: Terminal, signal: AbortSignal): Promise<number> {
  const shelf = await shelfArgument(args, 'list', false, terminal, signal);
  const folder = shelf.where;
  let listings: ArchiveListing[];
  try {
    listings = await listArchives(shelf, terminalKeyring(await commandSettings(args.common), terminal));
  } finally {
    shelf.close();
  }
  if (args.common.json) {
    terminal.out(`${JSON.stringify({ folder, archives: listings.map(listingJson) }, null, 2)}\n`);
    return 0;
  }
  if (listings.length === 0) terminal.out(`No archives in ${folder}.\n`);
  for (const listing of listings) {
    const what = listing.problem
      ? `BROKEN: ${listing.problem}`
      : listing.soundnessUnknown
        ? `ENCRYPTED, SOUNDNESS UNKNOWN: ${listing.soundnessUnknown}`
        : listing.locked
          ? `ENCRYPTED: ${listing.locked}`
          : `${listing.environment}  ${listing.createdAt}  ${listing.components?.join(',') || '(nothing)'}`;
    terminal.out(`${listing.name}  ${formatBytes(listing.bytes)}  ${what}\n`);
  }
  return 0;
}

/** `prune <folder> --keep-…`: removes this environment's archives that no keep rule keeps. */
export async function pruneCommand(args: ParsedCommand, terminal: Terminal, signal: AbortSignal, recorder: RunRecorder): Promise<number> {
  const policy = requireSomeRule(args.retention ?? {}, 'prune');
  const setting = await commandSettings(args.common);
  const environment = args.common.env ?? setting('ORKESTRA_ENV') ?? 'local';
  const shelf = await shelfArgument(args, 'prune', true, terminal, signal);
  try {
    const plan = await planPrune(shelf, environment, policy, {
      removeBroken: args.removeBroken,
      keyring: terminalKeyring(setting, terminal),
      anomalous: await anomalousArchives(shelf, environment, args),
    });
    const removed = args.dryRun ? [] : await runPrune(plan);
    recorder.pruned(plan, removed);
    if (args.common.json) terminal.out(`${JSON.stringify(pruneJson(plan, args.dryRun, removed), null, 2)}\n`);
    else terminal.out(pruneReport(plan, args.dryRun, args.removeBroken ?? false));
    return 0;
  } finally {
    shelf.close();
  }
}

/** After a successful `backup --prune <policy>`: the same rules over the archive's folder or s3:// prefix. */
export async function pruneAfterBackup(
  args: ParsedCommand,
  folder: string,
  environment: string,
  terminal: Terminal,
  signal: AbortSignal,
  anomalousNow: readonly string[] = [],
): Promise<void> {
  const shelf = await openShelf(folder, args, terminal, signal);
  try {
    // The backup just made is not in the history yet: its own anomalies count too.
    const anomalous = new Set([...(await anomalousArchives(shelf, environment, args)), ...anomalousNow]);
    // The backup host may hold only the recipients: archives it cannot open are judged by their records.
    const keyring = settingsKeyring(await commandSettings(args.common));
    const plan = await planPrune(shelf, environment, args.pruneAfter!, { keyring, anomalous });
    const removed = await runPrune(plan);
    const unknown = plan.decisions.filter(({ candidate }) => candidate.soundnessUnknown !== undefined).length;
    const guarded = plan.decisions.filter(({ reasons }) => reasons.includes(NEWEST_GOOD_REASON));
    terminal.err(
      `Pruned ${plan.folder}: ${removed.length} removed, ${plan.decisions.length - removed.length} kept` +
        (unknown > 0 ? ` (${unknown} encrypted of unknown soundness among them, left in place: ${UNKNOWN_HINT})` : '') +
        '.\n' +
        guarded.map(({ candidate }) => `Kept ${candidate.listing.name} whatever the rules: ${NEWEST_GOOD_REASON}.\n`).join(''),
    );
  } finally {
    shelf.close();
  }
}

async function shelfArgument(args: ParsedCommand, command: string, required: boolean, terminal: Terminal, signal: AbortSignal) {
  const [folder, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}".`, { hint: `Give one folder to ${command}.` });
  if (folder === undefined) {
    if (required)
      throw new UsageError(`${command} needs the folder of the archives.`, {
        hint: 'Example: orkestra-backup prune ./backups --keep-daily 7 (or s3://bucket/prefix/)',
      });
    return localShelf((await openSessionProject(args.common)).backupsDir);
  }
  return openShelf(folder, args, terminal, signal);
}

/** A local folder, or an s3://bucket/prefix/ (a prefix without its final slash is taken as a folder all the same). */
export async function openShelf(folder: string, args: ParsedCommand, terminal: Terminal, signal: AbortSignal): Promise<ArchiveShelf> {
  if (!isOffsiteUrl(folder)) return localShelf(resolve(folder));
  const url = parseOffsiteFolder(folder);
  const store = openOffsite(await commandSettings(args.common), createLineReporter(terminal.errRaw, terminal.stderrIsTTY), signal);
  try {
    await store.checkBucket(url.bucket);
  } catch (error) {
    store.destroy();
    throw error;
  }
  return offsiteShelf(store, url);
}

/**
 * The archives the history calls anomalous (anomalies nobody accepted): the history file of a
 * local folder is in it, and a backup records its run in the project's backups/ whatever folder
 * the archive went to, so the project's history (when a project is here) is read too.
 */
async function anomalousArchives(shelf: ArchiveShelf, environment: string, args: ParsedCommand): Promise<ReadonlySet<string>> {
  const files = new Set<string>();
  if (!isOffsiteUrl(shelf.where)) files.add(resolve(historyPath(shelf.where)));
  const project = await openSessionProject(args.common).catch(() => undefined);
  if (project !== undefined) files.add(resolve(historyPath(project.backupsDir)));
  const records = [];
  for (const file of files) records.push(...(await readHistory(file)).records);
  return historyVerdicts(records, environment).anomalous;
}

const UNKNOWN_HINT = 'no record beside them vouches for them; list or prune them with --identity to judge';

function pruneReport(plan: PrunePlan, dryRun: boolean, removeBroken: boolean): string {
  const lines = plan.decisions.map(({ candidate, keep, reasons }) => {
    const verdict = keep ? `keep    (${reasons.join(', ')})` : dryRun ? 'remove' : 'removed';
    return `${candidate.listing.name}  ${verdict}${candidate.soundnessUnknown === undefined ? '' : `: ${candidate.soundnessUnknown}`}`;
  });
  const removed = plan.decisions.filter((decision) => !decision.keep).length;
  const unknown = plan.decisions.filter(({ candidate }) => candidate.soundnessUnknown !== undefined).length;
  const broken = plan.decisions.filter(({ candidate }) => !candidate.sound && candidate.soundnessUnknown === undefined).length;
  const brokenFate = removeBroken
    ? dryRun
      ? 'to be removed: --remove-broken'
      : 'removed: --remove-broken'
    : 'left in place unless --remove-broken';
  lines.push(
    '',
    `${dryRun ? 'Would remove' : 'Removed'} ${removed} of ${plan.decisions.length} archives of environment ${plan.environment} in ${plan.folder}` +
      (broken > 0 ? `; ${broken} broken (${brokenFate})` : '') +
      (unknown > 0 ? `; ${unknown} encrypted of unknown soundness left in place (${UNKNOWN_HINT})` : '') +
      (plan.ignored > 0 ? `; ${plan.ignored} other files not touched` : '') +
      '.',
  );
  return `${lines.join('\n')}\n`;
}

function pruneJson(plan: PrunePlan, dryRun: boolean, removed: string[]) {
  return {
    folder: plan.folder,
    environment: plan.environment,
    dryRun,
    archives: plan.decisions.map(({ candidate, keep, reasons }) => ({
      name: candidate.listing.name,
      createdAt: candidate.createdAt.toISOString(),
      sound: candidate.sound,
      soundnessUnknown: candidate.soundnessUnknown,
      series: candidate.series,
      keep,
      reasons,
    })),
    removed,
  };
}

function listingJson(listing: ArchiveListing) {
  return {
    name: listing.name,
    file: listing.file,
    bytes: listing.bytes,
    environment: listing.environment,
    createdAt: listing.createdAt,
    components: listing.components,
    sound: listing.problem === undefined && listing.soundnessUnknown === undefined,
    problem: listing.problem,
    soundnessUnknown: listing.soundnessUnknown,
    encrypted: listing.name.endsWith('.age'),
    locked: listing.locked,
  };
}
