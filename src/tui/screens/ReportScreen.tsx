import { Box, Text, useInput, useWindowSize } from 'ink';
import { useState } from 'react';
import type { ReportLine } from '../../core/reports.js';
import { HelpLine } from '../widgets/HelpLine.js';

/** A long text (the dry-run report) that scrolls with the arrow keys; enter or esc returns. */
export function ReportScreen({ title, lines, onDone }: { title: string; lines: readonly ReportLine[]; onDone: () => void }) {
  const { rows } = useWindowSize();
  const height = Math.max(5, rows - 5);
  const [top, setTop] = useState(0);
  const maxTop = Math.max(0, lines.length - height);
  useInput((input, key) => {
    if (key.upArrow || input === 'k') setTop((current) => Math.max(0, current - 1));
    else if (key.downArrow || input === 'j') setTop((current) => Math.min(maxTop, current + 1));
    else if (key.pageDown || input === ' ') setTop((current) => Math.min(maxTop, current + height));
    else if (key.pageUp) setTop((current) => Math.max(0, current - height));
    else if (key.return) onDone();
  });
  return (
    <Box flexDirection="column">
      <Text bold>{title}</Text>
      {lines.slice(top, top + height).map((line, index) => (
        <Text key={top + index} color={line.failure ? 'red' : undefined}>
          {line.text || ' '}
        </Text>
      ))}
      <HelpLine
        keys={`${maxTop > 0 ? `lines ${top + 1}-${Math.min(lines.length, top + height)} of ${lines.length} · ↑/↓ scroll · ` : ''}enter or esc back · q quit`}
      />
    </Box>
  );
}
