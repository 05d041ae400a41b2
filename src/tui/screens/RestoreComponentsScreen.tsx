import { Box, Text } from 'ink';
import type { ArchiveListing } from '../backend.js';
import { HelpLine } from '../widgets/HelpLine.js';
import { MultiSelect } from '../widgets/MultiSelect.js';

/** Only the components the archive holds can be restored. */
export function RestoreComponentsScreen({ archive, onSubmit }: { archive: ArchiveListing; onSubmit: (selected: string[]) => void }) {
  const components = archive.components ?? [];
  return (
    <Box flexDirection="column">
      <Text bold>Restore {archive.name} — choose components</Text>
      <Box marginTop={1}>
        <MultiSelect
          items={components.map((name) => ({ key: name, value: name, label: name }))}
          initiallySelected={components}
          onSubmit={onSubmit}
        />
      </Box>
      <HelpLine keys="↑/↓ move · space toggle · a all · enter continue · esc back · q quit" />
    </Box>
  );
}
