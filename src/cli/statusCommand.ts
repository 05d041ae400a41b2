import { resolve } from 'node:path';
import { loadComponents, openOffsite, openSessionProject } from '../app/session.js';
import { loadProjectConfig } from '../app/projectConfig.js';
import { UsageError } from '../base/errors.js';
import { settingsKeyring } from '../core/archiveKeys.js';
import { localShelf, offsiteShelf } from '../core/archiveShelf.js';
import { historyPath } from '../core/history/historyFile.js';
import { backupStatus, type BackupStatus } from '../core/status/backupStatus.js';
import { checkMetricsTarget, statusMetrics, writeMetricsFile } from '../core/status/metrics.js';
import { statusText } from '../core/status/statusReport.js';
import { offsiteUrlText, parseOffsiteFolder } from '../s3/offsite/offsiteUrl.js';
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
  const [config, components] = await Promise.all([loadProjectConfig(project.dir), loadComponents(project)]);
  const setting = (key: string) => project.setting(key);
  const offsite = setting('ORKESTRA_OFFSITE');
  // A bad ORKESTRA_OFFSITE is bad input: refused before anything is read.
  const offsiteFolder = offsite === undefined ? undefined : parseOffsiteFolder(offsite);
  const status = await backupStatus({
    environment: project.environment,
    componentNames: components.map((component) => component.name),
    shelves: [
      { destination: 'local', where: project.backupsDir, shelf: () => Promise.resolve(localShelf(project.backupsDir)) },
      ...(offsiteFolder === undefined
        ? []
        : [
            {
              destination: 'offsite' as const,
              where: offsiteUrlText(offsiteFolder),
              shelf: async () => {
                const store = openOffsite(setting, createLineReporter(terminal.errRaw, terminal.stderrIsTTY), signal);
                try {
                  await store.checkBucket(offsiteFolder.bucket);
                } catch (error) {
                  store.destroy();
                  throw error;
                }
                return offsiteShelf(store, offsiteFolder);
              },
            },
          ]),
    ],
    historyFile: historyPath(project.backupsDir),
    health: config.health,
    setting,
    keyring: settingsKeyring(setting),
  });
  if (metrics !== undefined) await writeMetricsFile(metrics, statusMetrics(status));
  terminal.out(args.common.json ? `${JSON.stringify(statusJson(status), null, 2)}\n` : statusText(status));
  return exitCodeOf(status);
}

export function exitCodeOf(status: BackupStatus): number {
  return status.reasons.length === 0 ? 0 : 1;
}

function statusJson(status: BackupStatus) {
  return { ok: status.reasons.length === 0, exitCode: exitCodeOf(status), ...status };
}
