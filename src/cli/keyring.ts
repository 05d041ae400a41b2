import type { Keyring } from '../age/header.js';
import { settingsKeyring } from '../core/archiveKeys.js';
import type { Terminal } from './terminal.js';

/** The keyring of a command: identities and passphrase file from flags and settings, else the passphrase asked on the terminal (never in CI). */
export function terminalKeyring(setting: (key: string) => string | undefined, terminal: Terminal): Keyring {
  const ask = terminal.stdinIsTTY ? () => terminal.askSecret('Passphrase of the encrypted archive: ') : undefined;
  return settingsKeyring(setting, ask);
}
