import { Box, Text } from 'ink';
import { HelpLine } from '../widgets/HelpLine.js';
import { SelectList } from '../widgets/SelectList.js';

export function StartScreen({
  projectDir,
  onChoose,
}: {
  projectDir: string;
  onChoose: (choice: 'backup' | 'restore' | 'drill' | 'status') => void;
}) {
  return (
    <Box flexDirection="column">
      <Text bold>orkestra-backup</Text>
      <Text dimColor>{projectDir}</Text>
      <Box marginTop={1}>
        <SelectList
          items={[
            { key: 'backup', value: 'backup' as const, label: 'Back up this deployment' },
            { key: 'restore', value: 'restore' as const, label: 'Restore from an archive in ./backups/' },
            { key: 'drill', value: 'drill' as const, label: 'Drill: prove an archive restores, on throwaway containers' },
            { key: 'status', value: 'status' as const, label: 'Status: the health of the backups, and the last runs' },
          ]}
          onSelect={onChoose}
        />
      </Box>
      <HelpLine keys="↑/↓ or j/k move · enter choose · q quit" />
    </Box>
  );
}
