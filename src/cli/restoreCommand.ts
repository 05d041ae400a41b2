import type { OverwritePolicy } from '../core/component.js';
import { AbortedError, OutcomeError, PreconditionError, UsageError } from '../base/errors.js';
import {
  openRestoreArchive,
  previewRestore,
  runRestore,
  selectRestoreComponents,
  undeclaredComponents,
  leftOutLine,
  confirmsRestore,
  GATE_WORD,
  type CheckedArchive,
  type ComponentPlan,
  type RestoreOutcome,
} from '../core/restore.js';
import { dryRunReport, replacedSummary } from '../core/reports.js';
import { openSecretsArchive, previewPairRestore, selectPairComponents, type ArchivePair } from '../core/pairedRestore.js';
import type { ParsedCommand } from './args.js';
import { openSession } from '../app/session.js';
import { createLineReporter } from './reporter.js';
import { confirm, type Terminal } from './terminal.js';
import { terminalKeyring } from './keyring.js';
import type { RunRecorder } from '../app/runRecorder.js';

export async function restoreCommand(args: ParsedCommand, terminal: Terminal, signal: AbortSignal, recorder: RunRecorder): Promise<number> {
  const [file, ...extra] = args.positionals;
  if (file === undefined) {
    throw new UsageError('restore needs the path of an archive.', {
      hint: 'Example: orkestra-backup restore backups/<file>.tar.gz --dry-run',
    });
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}".`, { hint: 'Give one archive.' });
  if (!args.dryRun && !args.yes && !terminal.stdinIsTTY) {
    throw new UsageError('a real restore needs --yes when stdin is not a terminal.', {
      hint: 'Run with --dry-run first to see what it would change.',
    });
  }
  const session = await openSession(args.common, recorder.listen(createLineReporter(terminal.errRaw, terminal.stderrIsTTY)), signal);
  const keyring = terminalKeyring((key) => session.project.setting(key), terminal);
  const opened = await openRestoreArchive(file, session, keyring);
  recorder.opened(opened);
  let pair: ArchivePair | undefined;
  try {
    if (args.secretsArchive !== undefined) {
      pair = await openSecretsArchive(args.secretsArchive, opened, session, { keyring, allowMismatch: args.allowMismatch });
      recorder.opened(pair.secrets);
    } else if (opened.manifest.split === 'data' && !args.common.json) {
      terminal.err(`Note: ${opened.name} is the data half of a split backup; its secrets are in their own archive (--secrets <file>).\n`);
    }
    const selective = Object.keys(args.selectors).length > 0;
    const leftOutComponents = args.components === undefined && !selective ? undeclaredComponents(session, opened) : [];
    const { archive, plans } = pair
      ? await previewPairRestore(session, pair, selectPairComponents(session, pair, args.components, args.selectors))
      : await previewRestore(session, opened, selectRestoreComponents(session, opened, args.components, args.selectors));
    const failed = plans.filter((entry) => entry.failure);
    const leftOut = leftOutComponents.map(leftOutLine);

    if (args.dryRun) {
      const report = dryRunReport(archive, plans) + leftOut.map((line) => `${line}\n`).join('');
      terminal.out(args.common.json ? `${JSON.stringify({ ...planJson(archive, plans, true), leftOut }, null, 2)}\n` : report);
      return failed.length > 0 ? 1 : 0;
    }
    for (const line of leftOut) terminal.err(`Note: ${line}\n`);
    if (failed.length > 0) {
      const reasons = failed.map((entry) => `${entry.component.name}: ${entry.failure}`).join('; ');
      throw new PreconditionError(`restore refused, nothing was changed — ${reasons}`);
    }
    if (!args.yes) await gate(archive, plans, terminal);
    const overwrite: OverwritePolicy = args.yes
      ? { mode: 'move-aside' }
      : { mode: 'ask', confirm: (question) => confirm(terminal, question) };
    const outcome = await runRestore(session, archive, plans, overwrite);
    recorder.restored(outcome);
    if (args.common.json) terminal.out(`${JSON.stringify(outcomeJson(archive, outcome), null, 2)}\n`);
    else terminal.out(outcomeReport(outcome));
    if (outcome.failed) {
      throw new OutcomeError(`restore of ${outcome.failed.component} failed: ${outcome.failed.message}`, {
        hint: restoredSentence(outcome),
      });
    }
    return 0;
  } finally {
    await pair?.secrets.location.close();
    await opened.location.close();
  }
}

/** Shows what will be replaced and asks for the word `restore`; anything else changes nothing. */
async function gate(archive: CheckedArchive, plans: readonly ComponentPlan[], terminal: Terminal): Promise<void> {
  const beside = plans.every(({ plan }) => plan?.selection?.beside !== undefined);
  terminal.err(
    `\nRestoring from ${archive.name} (${archive.manifest.environment}, ${archive.manifest.createdAt}) will ${beside ? 'write' : 'replace'}:\n`,
  );
  for (const { component, plan, from } of plans) {
    terminal.err(`  ${component.name}${from ? ` (from ${from.name})` : ''}: ${replacedSummary(plan)}\n`);
  }
  const answer = await terminal.ask(`Type "${GATE_WORD}" to continue: `);
  if (!confirmsRestore(answer)) throw new AbortedError('restore not confirmed; nothing was changed.');
}

function outcomeReport(outcome: RestoreOutcome): string {
  const lines = outcome.restored.map(({ component, summary }) => `restored ${component}${summary ? `: ${summary}` : ''}`);
  if (outcome.failed) lines.push(`FAILED ${outcome.failed.component}: ${outcome.failed.message}`);
  for (const name of outcome.notRestored) lines.push(`not restored ${name}`);
  return `${lines.join('\n')}\n`;
}

function restoredSentence(outcome: RestoreOutcome): string {
  const restored = outcome.restored.map((entry) => entry.component);
  const restoredText = restored.length > 0 ? `Fully restored: ${restored.join(', ')}.` : 'No component was fully restored.';
  const notText = outcome.notRestored.length > 0 ? ` Not started: ${outcome.notRestored.join(', ')}.` : '';
  return `${restoredText}${notText}`;
}

function planJson(archive: CheckedArchive, plans: readonly ComponentPlan[], dryRun: boolean) {
  return {
    ok: plans.every((entry) => !entry.failure),
    dryRun,
    archive: archive.file,
    environment: archive.manifest.environment,
    createdAt: archive.manifest.createdAt,
    checksumsVerified: !archive.legacy,
    // A selective restore verifies only the files it reads.
    verifiedFiles: archive.legacy ? 0 : (archive.checkedOnly?.files ?? archive.index.files),
    components: plans.map(({ component, plan, failure, from }) => ({
      name: component.name,
      archive: from?.file ?? archive.file,
      ok: !failure,
      failure,
      actions: plan?.actions ?? [],
      replaces: plan?.replaces ?? [],
      warnings: plan?.warnings ?? [],
      selection: plan?.selection,
    })),
  };
}

function outcomeJson(archive: CheckedArchive, outcome: RestoreOutcome) {
  return {
    ok: !outcome.failed,
    dryRun: false,
    archive: archive.file,
    restored: outcome.restored.map(({ component, summary }) => ({ component, summary })),
    failed: outcome.failed,
    notRestored: outcome.notRestored,
  };
}
