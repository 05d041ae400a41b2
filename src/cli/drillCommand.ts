import { openSession } from '../app/session.js';
import { UsageError } from '../base/errors.js';
import { listArchives, newestSound } from '../core/archiveListing.js';
import { localShelf, type ArchiveShelf } from '../core/archiveShelf.js';
import { drillFailures, drillText } from '../core/drill/drillReport.js';
import { removeLeftoverDrills } from '../core/drill/drillStack.js';
import { runDrill, type DrillReport } from '../core/drill/runDrill.js';
import { loadProjectConfig } from '../app/projectConfig.js';
import { openRestoreArchive } from '../core/restore.js';
import type { Session } from '../core/session.js';
import type { Keyring } from '../age/header.js';
import type { ParsedCommand } from './args.js';
import { openShelf } from './archivesCommands.js';
import { terminalKeyring } from './keyring.js';
import { createLineReporter } from './reporter.js';
import type { Terminal } from './terminal.js';
import { monitoredRun, type OutcomeFacts } from './monitoredRun.js';
import type { RunRecorder } from '../app/runRecorder.js';

/**
 * `drill <archive|s3://…|latest>`: restores the archive into throwaway copies of the stack and
 * checks that the data came back. Exit 0 when every check passes, 1 when one fails (named), 2
 * when the archive itself is bad. `drill --cleanup` removes what drills killed outright left.
 */
export async function drillCommand(args: ParsedCommand, terminal: Terminal, signal: AbortSignal, recorder: RunRecorder): Promise<number> {
  const [target, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}".`, { hint: 'Give one archive, or "latest".' });
  if (args.cleanup) {
    if (Object.keys(args.selectors).length > 0 || args.components !== undefined)
      throw new UsageError('drill --cleanup takes no selector nor -c.', { hint: 'Run it alone: orkestra-backup drill --cleanup.' });
    if (target !== undefined)
      throw new UsageError('drill --cleanup takes no archive.', { hint: 'Run it alone: orkestra-backup drill --cleanup.' });
    return cleanup(args, terminal, signal);
  }
  if (target === undefined) {
    throw new UsageError('drill needs an archive, an s3:// URL or "latest".', {
      hint: 'Example: orkestra-backup drill latest (the newest sound archive of ./backups).',
    });
  }
  if (args.from !== undefined && target !== 'latest')
    throw new UsageError('--from goes with "latest" only.', { hint: 'Example: orkestra-backup drill latest --from s3://bucket/backups/' });
  // A selective drill proves its selection only: it is not the drill the health check watches (status judges by whole drills too).
  const selective = Object.values(args.selectors).some((values) => values.length > 0);
  return monitoredRun(
    'drill',
    args.common,
    terminal,
    signal,
    (watched, tell) => drill(target, args, watched, signal, tell, recorder),
    !selective,
  );
}

async function drill(
  target: string,
  args: ParsedCommand,
  terminal: Terminal,
  signal: AbortSignal,
  tell: (facts: OutcomeFacts) => void,
  recorder: RunRecorder,
): Promise<number> {
  const session = await openSession(args.common, recorder.listen(createLineReporter(terminal.errRaw, terminal.stderrIsTTY)), signal);
  const config = await loadProjectConfig(session.project.dir);
  const keyring = terminalKeyring((key) => session.project.setting(key), terminal);
  const file = target === 'latest' ? await latestArchive(session, args, terminal, signal, keyring) : target;
  tell({ archive: file });
  const opened = await openRestoreArchive(file, session, keyring);
  recorder.opened(opened);
  let report: DrillReport;
  try {
    report = await runDrill(session, opened, {
      images: args.images,
      config,
      selectors: args.selectors,
      components: args.components,
      onSelection: (selection) => recorder.drillSelected(selection),
    });
  } finally {
    await opened.location.close();
  }
  recorder.drilled(report);
  terminal.out(args.common.json ? `${JSON.stringify(drillJson(report), null, 2)}\n` : drillText(report));
  if (!report.ok) tell({ error: `drill failed: ${drillFailures(report).join('; ')}` });
  return report.ok ? 0 : 1;
}

async function latestArchive(
  session: Session,
  args: ParsedCommand,
  terminal: Terminal,
  signal: AbortSignal,
  keyring: Keyring,
): Promise<string> {
  const shelf: ArchiveShelf =
    args.from === undefined ? localShelf(session.project.backupsDir) : await openShelf(args.from, args, terminal, signal);
  try {
    const newest = newestSound(await listArchives(shelf, keyring));
    if (!newest) {
      throw new UsageError(`no sound archive in ${shelf.where} to drill.`, { hint: 'Make a backup first, or give the archive by name.' });
    }
    terminal.err(`Drilling the newest sound archive: ${newest.name}\n`);
    return newest.file;
  } finally {
    shelf.close();
  }
}

async function cleanup(args: ParsedCommand, terminal: Terminal, signal: AbortSignal): Promise<number> {
  const session = await openSession(args.common, () => undefined, signal);
  const removed = await removeLeftoverDrills(session.services.docker());
  if (args.common.json) terminal.out(`${JSON.stringify({ ok: true, removed })}\n`);
  else terminal.out(removed.length === 0 ? 'No left-over drill to remove.\n' : `Removed left-over drills: ${removed.join(', ')}\n`);
  return 0;
}

function drillJson(report: DrillReport) {
  return { ...report, failures: drillFailures(report) };
}
