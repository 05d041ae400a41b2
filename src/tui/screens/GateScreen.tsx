import { Box, Text } from 'ink';
import { replacedSummary } from '../../core/reports.js';
import { GATE_WORD, type ComponentPlan } from '../../core/restore.js';
import { HelpLine } from '../widgets/HelpLine.js';
import { TextPrompt } from '../widgets/TextPrompt.js';

/** What a real restore replaces, then the word `restore` — exactly — or nothing happens. */
export function GateScreen({ name, plans, onAnswer }: { name: string; plans: ComponentPlan[]; onAnswer: (word: string) => void }) {
  return (
    <Box flexDirection="column">
      <Text bold color="red">
        Restoring from {name} will replace:
      </Text>
      {plans.map(({ component, plan }) => (
        <Text key={component.name}>
          {'  '}
          <Text bold>{component.name}</Text>: {replacedSummary(plan)}
        </Text>
      ))}
      {plans.flatMap(({ component, plan }) =>
        (plan?.warnings ?? []).map((warning, index) => (
          <Text key={`${component.name}-${index}`} color="yellow">
            {'  '}warning: {warning}
          </Text>
        )),
      )}
      <Box marginTop={1}>
        <TextPrompt label={`Type "${GATE_WORD}" to continue: `} onSubmit={onAnswer} />
      </Box>
      <HelpLine keys="type the word, then enter · esc cancels (nothing is changed)" />
    </Box>
  );
}
