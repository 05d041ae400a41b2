import { Box, Text } from 'ink';
import { formatBytes } from '../../base/format.js';
import type { ArchiveListing } from '../backend.js';
import { HelpLine } from '../widgets/HelpLine.js';
import { SelectList } from '../widgets/SelectList.js';

/**
 * The archives in ./backups/ and, when ORKESTRA_OFFSITE names one, in the off-site folder (shown
 * by their s3:// URL), newest first; an unreadable one, or an encrypted one no identity of
 * ORKESTRA_BACKUP_IDENTITY opens (the interface asks for no key), is listed as such and cannot be picked.
 */
export function ArchivePickScreen({
  archives,
  onPick,
  title = 'Restore — choose an archive',
}: {
  archives: ArchiveListing[] | undefined;
  onPick: (archive: ArchiveListing) => void;
  title?: string;
}) {
  if (!archives) return <Text>Reading ./backups/…</Text>;
  return (
    <Box flexDirection="column">
      <Text bold>{title}</Text>
      <Box marginTop={1} flexDirection="column">
        {archives.length === 0 ? (
          <Text color="yellow">No archives in ./backups/. Run a backup first, or pass a file: orkestra-backup restore &lt;file&gt;</Text>
        ) : (
          <SelectList
            items={archives.map((archive) => ({
              key: archive.file,
              value: archive,
              disabled: Boolean(archive.problem ?? archive.locked),
              label: archive.problem
                ? `${archive.name}  unreadable: ${archive.problem}`
                : archive.locked
                  ? `${archive.name}  encrypted: set ORKESTRA_BACKUP_IDENTITY to an identity file that opens it (or: orkestra-backup restore <file> -i <file>)`
                  : `${archive.createdAt}  ${archive.environment!.padEnd(10)} ${formatBytes(archive.bytes).padStart(9)}  ${archive.components!.join(', ')}  (${archive.file.startsWith('s3://') ? archive.file : archive.name})`,
            }))}
            onSelect={onPick}
          />
        )}
      </Box>
      <HelpLine keys="↑/↓ move · enter choose · esc back · q quit" />
    </Box>
  );
}
