import { resolve } from 'node:path';
import { projectBackupStatus } from '../app/backupStatus.js';
import { openSessionProject } from '../app/session.js';
import { UsageError } from '../base/errors.js';
import type { BackupStatus } from '../core/status/backupStatus.js';
import { checkMetricsTarget, statusMetrics, writeMetricsFile } from '../core/status/metrics.js';
import { statusText } from '../core/status/statusReport.js';
import type { ParsedCommand } from './args.js';
import { createLineReporter } from './reporter.js';
import type { Terminal } from './terminal.js';

/**
 * `status [--json] [--metrics FILE]`: the health of the project's backups, from files alone
 * (archives' manifests, the history, docker/.env), for people, machines and monitoring. Exit 0
 * healthy; 1 with the reasons, one line each; 2 bad input. Never asks anything: a monitoring
 * check has no one to answer (encrypted archives open with --identity or ORKESTRA_BACKUP_IDENTITY).
 */
export async function statusCommand(args: ParsedCommand, terminal: Terminal, signal: AbortSignal): Promise<number> {
  if (args.positionals.length > 0)
    throw new UsageError(`unexpected argument "${args.positionals[0]}".`, {
      hint: 'status takes no argument; see orkestra-backup status --help.',
    });
  const metrics = args.metrics === undefined ? undefined : resolve(args.metrics);
  if (metrics !== undefined) await checkMetricsTarget(metrics);
  const project = await openSessionProject(args.common);
  const status = await projectBackupStatus(project, { onEvent: createLineReporter(terminal.errRaw, terminal.stderrIsTTY), signal });
  if (metrics !== undefined) await writeMetricsFile(metrics, statusMetrics(status));
  terminal.out(args.common.json ? `${JSON.stringify(statusJson(status), null, 2)}\n` : statusText(status));
  return exitCodeOf(status);
}

function exitCodeOf(status: BackupStatus): number {
  return status.reasons.length === 0 ? 0 : 1;
}

function statusJson(status: BackupStatus) {
  return { ok: status.reasons.length === 0, exitCode: exitCodeOf(status), ...status };
}
