import { Box, Text } from 'ink';
import type { RestoreChoice } from '../screenState.js';
import { HelpLine } from '../widgets/HelpLine.js';
import { SelectionLines } from './PickFlowScreens.js';
import { SelectList } from '../widgets/SelectList.js';

export function RestoreModeScreen({
  name,
  components,
  choice,
  onChoose,
}: {
  name: string;
  components: string[];
  choice?: RestoreChoice;
  onChoose: (dryRun: boolean) => void;
}) {
  return (
    <Box flexDirection="column">
      <Text bold>Restore {name}</Text>
      <Text>
        Components: {components.join(', ')}
        {choice ? ' (only the picks)' : ''}
      </Text>
      {choice ? <SelectionLines selectors={choice.selectors} notes={choice.picked.notes} /> : null}
      <Box marginTop={1}>
        <SelectList
          items={[
            { key: 'dry', value: true, label: 'Dry run — report exactly what would happen, change nothing' },
            { key: 'real', value: false, label: 'Restore — replace the live data (asks you to type "restore")' },
          ]}
          onSelect={onChoose}
        />
      </Box>
      <HelpLine keys="↑/↓ move · enter choose · esc back · q quit" />
    </Box>
  );
}
