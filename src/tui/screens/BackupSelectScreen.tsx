import { Box, Text } from 'ink';
import type { ComponentChoice } from '../backend.js';
import { HelpLine } from '../widgets/HelpLine.js';
import { MultiSelect } from '../widgets/MultiSelect.js';

/** Every component with its availability; the unavailable ones say why and cannot be chosen. */
export function BackupSelectScreen({
  choices,
  onSubmit,
}: {
  choices: ComponentChoice[] | undefined;
  onSubmit: (selected: string[]) => void;
}) {
  if (!choices) return <Text>Checking what is available…</Text>;
  const available = choices.filter((choice) => choice.available);
  return (
    <Box flexDirection="column">
      <Text bold>Back up — choose components</Text>
      <Box marginTop={1}>
        <MultiSelect
          items={choices.map((choice) => ({
            key: choice.name,
            value: choice.name,
            disabled: !choice.available,
            label: `${choice.name.padEnd(8)} ${choice.available ? `${choice.title}${choice.detail ? ` — ${choice.detail}` : ''}` : `unavailable: ${choice.reason}`}`,
          }))}
          initiallySelected={available.map((choice) => choice.name)}
          onSubmit={onSubmit}
        />
      </Box>
      {available.length === 0 ? <Text color="yellow">Nothing is available to back up here.</Text> : null}
      <HelpLine keys="↑/↓ move · space toggle · a all · enter continue · esc back · q quit" />
    </Box>
  );
}
