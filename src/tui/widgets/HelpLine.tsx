import { Box, Text } from 'ink';

/** The keys of the current screen, always on the last line. */
export function HelpLine({ keys }: { keys: string }) {
  return (
    <Box marginTop={1}>
      <Text dimColor>{keys}</Text>
    </Box>
  );
}
