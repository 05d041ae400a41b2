import { Box, Text, useInput } from 'ink';
import { HelpLine } from '../widgets/HelpLine.js';

/** A yes/no question: y or enter for yes, n for no. */
export function ConfirmScreen({ title, lines, onAnswer }: { title: string; lines: string[]; onAnswer: (yes: boolean) => void }) {
  useInput((input, key) => {
    if (input === 'y' || key.return) onAnswer(true);
    else if (input === 'n') onAnswer(false);
  });
  return (
    <Box flexDirection="column">
      <Text bold>{title}</Text>
      {lines.map((line, index) => (
        <Text key={index}>{line}</Text>
      ))}
      <HelpLine keys="y/enter proceed · n or esc back · q quit" />
    </Box>
  );
}
