import { dirname, relative } from 'node:path';
import { pruneAfterBackup } from './archivesCommands.js';
import { planBackup, runBackup, type BackupOutcome, type BackupPlan } from '../core/backup/index.js';
import { AbortedError, UsageError } from '../base/errors.js';
import { formatBytes, formatDuration } from '../base/format.js';
import { parseComponentList } from '../core/selection.js';
import { COMPONENTS } from '../components/index.js';
import { SECRETS } from '../archive/archiveNames.js';
import type { ParsedCommand } from './args.js';
import { openSession } from '../app/session.js';
import { loadProjectConfig } from '../app/projectConfig.js';
import { createLineReporter } from './reporter.js';
import { confirm, type Terminal } from './terminal.js';
import { isOffsiteUrl } from '../s3/offsite/offsiteUrl.js';
import { monitoredRun, type OutcomeFacts } from './monitoredRun.js';
import type { RunRecorder } from '../app/runRecorder.js';

export function backupCommand(args: ParsedCommand, terminal: Terminal, signal: AbortSignal, recorder: RunRecorder): Promise<number> {
  return monitoredRun('backup', args.common, terminal, signal, (watched, tell) => runBackupCommand(args, watched, signal, tell, recorder));
}

async function runBackupCommand(
  args: ParsedCommand,
  terminal: Terminal,
  signal: AbortSignal,
  tell: (facts: OutcomeFacts) => void,
  recorder: RunRecorder,
): Promise<number> {
  const selection = parseSelection(args);
  if (!args.yes && !terminal.stdinIsTTY) {
    throw new UsageError('--yes is required when stdin is not a terminal.', {
      hint: 'Example: orkestra-backup backup all --yes',
    });
  }
  checkStandardOutput(args, terminal);
  const session = await openSession(args.common, recorder.listen(createLineReporter(terminal.errRaw, terminal.stderrIsTTY)), signal);
  // Names are checked against this project's components: the built-in ones and those orkestra-backup.json declares.
  const chosen = selection.all ? selection : { all: false as const, components: parseComponentList(selection.names, session.components) };
  const plan = await planBackup(session, chosen, args.output, {
    standardOutput: terminal.stdout,
    splitSecrets: args.splitSecrets,
    compression: args.compression,
    health: (await loadProjectConfig(session.project.dir)).health,
    acceptAnomaly: args.acceptAnomaly,
  });
  describePlan(plan, session.project.dir, terminal);
  if (!args.yes && !(await confirm(terminal, 'Proceed?'))) {
    throw new AbortedError('backup not started; nothing was written.');
  }
  const outcome = await runBackup(session, plan);
  recorder.backedUp(outcome);
  // Anomalies the operator accepted with --accept-anomaly were intended: no anomaly message for them.
  const told = unaccepted(outcome) ? outcome.anomalies!.map((anomaly) => anomaly.message) : undefined;
  tell({ archive: outcome.archivePath, bytes: outcome.archiveBytes, anomalies: told });
  terminal.err(
    `Backup complete: ${outcome.manifest.components.join(', ')} — ${formatBytes(outcome.archiveBytes)}` +
      (outcome.secrets ? `; secrets in their own archive — ${formatBytes(outcome.secrets.archiveBytes)}` : '') +
      ` in ${formatDuration(outcome.elapsedMs)}\n`,
  );
  terminal.err(anomalyReport(outcome));
  // Only after a backup that succeeded: a failed run never costs an older archive.
  if (args.pruneAfter) {
    const anomalous = unaccepted(outcome) ? [outcome.archivePath, ...(outcome.manifest.backupId ? [outcome.manifest.backupId] : [])] : [];
    await pruneAfterBackup(args, archiveFolder(outcome.archivePath), outcome.manifest.environment, terminal, signal, anomalous);
  }
  const strictFailure = args.strict && outcome.skipped.length > 0;
  // With -o - standard output holds the archive and nothing else.
  if (plan.target.kind === 'stream') terminal.err(`Archive written to standard output.\n`);
  else {
    const ok = !strictFailure && !(args.failOnAnomaly && unaccepted(outcome));
    terminal.out(args.common.json ? `${JSON.stringify(backupJson(outcome, ok), null, 2)}\n` : `${outcome.archivePath}\n`);
  }
  if (outcome.secrets && plan.target.kind === 'stream') terminal.err(`Secrets archive written to ${outcome.secrets.archivePath}\n`);
  else if (outcome.secrets && !args.common.json) terminal.out(`${outcome.secrets.archivePath}\n`);
  if (args.failOnAnomaly && unaccepted(outcome)) {
    terminal.err(`orkestra-backup: --fail-on-anomaly: the backup differs from its baseline; the archive is kept: ${outcome.archivePath}\n`);
    return 1;
  }
  if (strictFailure) {
    const skipped = outcome.skipped.map(({ component, reason }) => `${component} (${reason})`).join('; ');
    const message = `--strict: skipped ${skipped}; the archive holds only ${outcome.manifest.components.join(', ')}.`;
    recorder.fail(message);
    tell({ error: `--strict: skipped ${skipped}` });
    terminal.err(`orkestra-backup: ${message}\n`);
    return 1;
  }
  return 0;
}

/** `-o -` writes binary to standard output: never to a terminal, and not mixed with --json or --prune. */
function checkStandardOutput(args: ParsedCommand, terminal: Terminal): void {
  if (args.output !== '-') return;
  if (terminal.stdoutIsTTY) {
    throw new UsageError('-o - would write a binary archive to the terminal.', {
      hint: 'Redirect it: orkestra-backup backup all -y -o - > file.tar.gz (or pipe it to another command).',
    });
  }
  if (args.common.json) throw new UsageError('--json and -o - both need standard output.', { hint: 'Drop --json.' });
  if (args.pruneAfter) throw new UsageError('--prune needs a folder or s3:// destination, not -o -.');
}

/** The folder an archive was written into: a local folder or an s3://bucket/prefix/. */
function archiveFolder(archivePath: string): string {
  return isOffsiteUrl(archivePath) ? archivePath.slice(0, archivePath.lastIndexOf('/') + 1) : dirname(archivePath);
}

function parseSelection(args: ParsedCommand) {
  const [first, ...extra] = args.positionals;
  if (extra.length > 0 || (first !== undefined && first !== 'all')) {
    throw new UsageError(`unexpected argument "${extra[0] ?? first}".`, {
      hint: 'Use "backup all" or "backup --components <list>".',
    });
  }
  if (first === 'all' && args.components !== undefined) {
    throw new UsageError('give either "all" or --components, not both.');
  }
  if (args.strict && first !== 'all') throw new UsageError('--strict goes with "backup all".');
  if (first === 'all') return { all: true as const };
  if (args.components === undefined) {
    throw new UsageError('nothing to back up: pass "all" or --components <list>.', {
      hint: 'Example: orkestra-backup backup all --yes',
    });
  }
  // Checked now against the built-in names' syntax; against the project's components once it is open.
  if (args.components.split(',').every((name) => name.trim() === '')) parseComponentList(args.components, COMPONENTS);
  return { all: false as const, names: args.components };
}

function describePlan(plan: BackupPlan, projectDir: string, terminal: Terminal): void {
  const target =
    plan.target.kind !== 'file'
      ? plan.target.kind === 'stream'
        ? 'standard output'
        : plan.outputPath
      : relative(projectDir, plan.outputPath).startsWith('..')
        ? plan.outputPath
        : relative(projectDir, plan.outputPath);
  const encrypted = plan.sealing ? ' (encrypted, age)' : '';
  if (plan.secrets) {
    const data = plan.components.filter((component) => component.name !== SECRETS).map((component) => component.name);
    terminal.err(`Backing up ${data.join(', ')} into ${target}${encrypted}\n`);
    terminal.err(`Backing up secrets into ${plan.secrets.outputPath}${plan.secrets.sealing ? ' (encrypted, age)' : ''}\n`);
  } else terminal.err(`Backing up ${plan.components.map((component) => component.name).join(', ')} into ${target}${encrypted}\n`);
  for (const { component, detail } of plan.transports) terminal.err(`  ${component}: ${detail}\n`);
  for (const { component, reason } of plan.skipped) terminal.err(`Skipping ${component}: ${reason}\n`);
}

/** Anomalies nobody accepted: what --fail-on-anomaly fails on. */
function unaccepted(outcome: BackupOutcome): boolean {
  return (outcome.anomalies ?? []).length > 0 && !outcome.accepted;
}

/** What the comparison with the baseline found, for the summary on stderr. */
function anomalyReport(outcome: BackupOutcome): string {
  const anomalies = outcome.anomalies ?? [];
  if (outcome.baseline === undefined) return 'No earlier good backup of these components to compare with: no anomaly checks this time.\n';
  const against = `compared with ${outcome.baseline}`;
  if (anomalies.length === 0) return `No anomaly (${against}).\n`;
  const verdict = outcome.accepted ? 'accepted (--accept-anomaly): this backup is the new baseline' : against;
  const lines = anomalies.map((anomaly) => `  ${anomaly.message}\n`).join('');
  return `ANOMALY: ${anomalies.length === 1 ? '1 difference' : `${anomalies.length} differences`} from the baseline (${verdict}):\n${lines}`;
}

function backupJson(outcome: BackupOutcome, ok: boolean) {
  return {
    ok,
    archive: outcome.archivePath,
    bytes: outcome.archiveBytes,
    seconds: Math.round(outcome.elapsedMs) / 1000,
    environment: outcome.manifest.environment,
    createdAt: outcome.manifest.createdAt,
    components: outcome.manifest.components,
    skipped: outcome.skipped,
    encrypted: outcome.archivePath.endsWith('.age'),
    backupId: outcome.manifest.backupId,
    anomalies: outcome.anomalies ?? [],
    baseline: outcome.baseline,
    accepted: outcome.accepted ?? false,
    secrets: outcome.secrets && {
      archive: outcome.secrets.archivePath,
      bytes: outcome.secrets.archiveBytes,
      encrypted: outcome.secrets.archivePath.endsWith('.age'),
    },
  };
}
