import { resolve } from 'node:path';
import { openSessionProject } from '../app/session.js';
import { UsageError } from '../base/errors.js';
import { formatBytes } from '../base/format.js';
import { listArchives, type ArchiveListing } from '../core/archiveListing.js';
import { planPrune, runPrune, type PrunePlan } from '../core/prune.js';
import { requireSomeRule, type RetentionPolicy } from '../core/retention.js';
import type { ParsedCommand } from './args.js';
import type { Terminal } from './terminal.js';

/** `list [folder]`: the archives of a folder (default ./backups), newest first, from their manifests alone. */
export async function listCommand(args: ParsedCommand, terminal: Terminal): Promise<number> {
  const folder = await folderArgument(args, 'list', false);
  const listings = await listArchives(folder);
  if (args.common.json) {
    terminal.out(`${JSON.stringify({ folder, archives: listings.map(listingJson) }, null, 2)}\n`);
    return 0;
  }
  if (listings.length === 0) terminal.out(`No archives in ${folder}.\n`);
  for (const listing of listings) {
    const what = listing.problem
      ? `BROKEN: ${listing.problem}`
      : `${listing.environment}  ${listing.createdAt}  ${listing.components?.join(',') || '(nothing)'}`;
    terminal.out(`${listing.name}  ${formatBytes(listing.bytes)}  ${what}\n`);
  }
  return 0;
}

/** `prune <folder> --keep-…`: removes this environment's archives that no keep rule keeps. */
export async function pruneCommand(args: ParsedCommand, terminal: Terminal): Promise<number> {
  const policy = requireSomeRule(args.retention ?? {}, 'prune');
  const folder = await folderArgument(args, 'prune', true);
  const project = await openSessionProject(args.common);
  const plan = await planPrune(folder, project.environment, policy, { removeBroken: args.removeBroken });
  const removed = args.dryRun ? [] : await runPrune(plan);
  if (args.common.json) terminal.out(`${JSON.stringify(pruneJson(plan, args.dryRun, removed), null, 2)}\n`);
  else terminal.out(pruneReport(plan, args.dryRun));
  return 0;
}

/** After a successful `backup --prune <policy>`: the same rules over the archive's folder. */
export async function pruneAfterBackup(folder: string, environment: string, policy: RetentionPolicy, terminal: Terminal): Promise<void> {
  const plan = await planPrune(folder, environment, policy);
  const removed = await runPrune(plan);
  terminal.err(`Pruned ${folder}: ${removed.length} removed, ${plan.decisions.length - removed.length} kept.\n`);
}

async function folderArgument(args: ParsedCommand, command: string, required: boolean): Promise<string> {
  const [folder, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}".`, { hint: `Give one folder to ${command}.` });
  if (folder === undefined) {
    if (required)
      throw new UsageError(`${command} needs the folder of the archives.`, {
        hint: 'Example: orkestra-backup prune ./backups --keep-daily 7',
      });
    return (await openSessionProject(args.common)).backupsDir;
  }
  return resolve(folder);
}

function pruneReport(plan: PrunePlan, dryRun: boolean): string {
  const lines = plan.decisions.map(({ candidate, keep, reasons }) => {
    const verdict = keep ? `keep    (${reasons.join(', ')})` : dryRun ? 'remove' : 'removed';
    return `${candidate.listing.name}  ${verdict}`;
  });
  const removed = plan.decisions.filter((decision) => !decision.keep).length;
  const broken = plan.decisions.filter((decision) => !decision.candidate.sound).length;
  lines.push(
    '',
    `${dryRun ? 'Would remove' : 'Removed'} ${removed} of ${plan.decisions.length} archives of environment ${plan.environment} in ${plan.folder}` +
      (broken > 0 ? `; ${broken} broken (left in place unless --remove-broken)` : '') +
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
    sound: listing.problem === undefined,
    problem: listing.problem,
  };
}
