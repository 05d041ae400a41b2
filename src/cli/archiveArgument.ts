import { openOffsite } from '../app/session.js';
import type { ArchiveBytes } from '../archive/location.js';
import { spoolInput } from '../archive/spooledInput.js';
import { openArchiveReference, openedWith } from '../core/offsite.js';
import type { Keyring } from '../age/header.js';
import type { OffsiteStore } from '../s3/offsite/offsite.js';
import { UsageError } from '../base/errors.js';
import type { EventListener } from '../model/events.js';
import { commandSettings } from './settings.js';
import type { ParsedCommand } from './args.js';
import { createLineReporter } from './reporter.js';
import type { Terminal } from './terminal.js';
import { terminalKeyring } from './keyring.js';

/** The one archive a command reads (verify, inspect), opened, with the settings and the progress reporter it needs. */
export interface ArchiveArgument {
  readonly location: ArchiveBytes;
  readonly setting: (key: string) => string | undefined;
  readonly onEvent: EventListener;
}

export async function openArchiveArgument(args: ParsedCommand, terminal: Terminal, signal: AbortSignal): Promise<ArchiveArgument> {
  const [file, ...extra] = args.positionals;
  if (file === undefined)
    throw new UsageError(`${args.command} needs the path of an archive (a file, s3://bucket/key, or - for standard input).`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}".`, { hint: 'Give one archive.' });
  const setting = await commandSettings(args.common);
  const onEvent = createLineReporter(terminal.errRaw, terminal.stderrIsTTY);
  const keyring = terminalKeyring(setting, terminal);
  const location = await openExamined(file, terminal, () => openOffsite(setting, onEvent, signal), keyring);
  return { location, setting, onEvent };
}

/** A file, an s3:// object, or standard input (spooled: a check reads the archive more than once). */
async function openExamined(file: string, terminal: Terminal, store: () => OffsiteStore, keyring: Keyring): Promise<ArchiveBytes> {
  if (file !== '-') return openArchiveReference(file, store, keyring);
  if (terminal.stdinIsTTY) {
    throw new UsageError('- reads the archive from standard input, which is a terminal.', {
      hint: 'Pipe it in: aws s3 cp s3://bucket/key - | orkestra-backup verify -',
    });
  }
  return openedWith(await spoolInput(terminal.stdin), keyring);
}
