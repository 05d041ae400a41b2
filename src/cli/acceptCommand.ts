import { openOffsite, openSessionProject } from '../app/session.js';
import { UsageError } from '../base/errors.js';
import { plural, printable } from '../base/format.js';
import { acceptArchive } from '../core/health/accept.js';
import type { ParsedCommand } from './args.js';
import { terminalKeyring } from './keyring.js';
import { createLineReporter } from './reporter.js';
import type { Terminal } from './terminal.js';

/** `accept <archive>`: its anomalies were intended; it becomes the baseline of the next backup. */
export async function acceptCommand(args: ParsedCommand, terminal: Terminal, signal: AbortSignal): Promise<number> {
  const [file, ...extra] = args.positionals;
  if (file === undefined || file === '-') {
    throw new UsageError('accept needs the path of an archive (a file or s3://bucket/key).', {
      hint: 'Example: orkestra-backup accept backups/orkestra-backup-prod-20261205-020000.tar.gz',
    });
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}".`, { hint: 'Give one archive.' });
  const project = await openSessionProject(args.common);
  const setting = (key: string) => project.setting(key);
  const onEvent = createLineReporter(terminal.errRaw, terminal.stderrIsTTY);
  const { record, manifest, historyFile } = await acceptArchive(
    file,
    project.backupsDir,
    () => openOffsite(setting, onEvent, signal),
    terminalKeyring(setting, terminal),
  );
  const [archive] = record.archives ?? [];
  if (args.common.json) {
    terminal.out(
      `${JSON.stringify({ ok: true, archive: archive.location, backupId: manifest.backupId, environment: manifest.environment, history: historyFile }, null, 2)}\n`,
    );
    return 0;
  }
  const shape = manifest.shape ? '' : ' It records no shape (an older version made it): only its size is compared.';
  terminal.out(
    `Accepted ${archive.location} (environment ${printable(manifest.environment)}, made ${printable(manifest.createdAt)}, ` +
      `${plural(manifest.components.length, 'component')}: ${manifest.components.map(printable).join(', ')}).\n` +
      `The next backup of ${printable(manifest.environment)} is compared with it.${shape} Recorded in ${historyFile}.\n`,
  );
  return 0;
}
