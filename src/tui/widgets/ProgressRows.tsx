import { PHASE_WORDS } from '../../model/events.js';
import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import { formatBytes, formatDuration, formatRate } from '../../base/format.js';
import type { ProgressRow } from '../progressState.js';

const BAR_WIDTH = 24;

/** One line per component: a bar when the total is known, a spinner with bytes when it is not. */
export function ProgressRows({ rows }: { rows: ProgressRow[] }) {
  return (
    <Box flexDirection="column">
      {rows.map((row) => (
        <Box key={row.component} flexDirection="column">
          <Text>
            <StatusMark row={row} /> <Text bold>{row.component.padEnd(8)}</Text> {describe(row)}
          </Text>
          {row.status === 'running'
            ? row.notes.map((note, index) => (
                <Text key={index} dimColor>
                  {'    '}
                  {note}
                </Text>
              ))
            : null}
        </Box>
      ))}
    </Box>
  );
}

function StatusMark({ row }: { row: ProgressRow }) {
  if (row.status === 'running') {
    return (
      <Text color="cyan">
        <Spinner type="dots" />
      </Text>
    );
  }
  if (row.status === 'done') return <Text color="green">✔</Text>;
  return <Text color="red">✘</Text>;
}

function describe(row: ProgressRow): string {
  const rate = formatRate(row.bytes, row.elapsedMs);
  const timing = `${formatDuration(row.elapsedMs)}${rate ? `, ${rate}` : ''}`;
  if (row.status === 'failed') return `failed: ${row.message ?? ''}`;
  if (row.status === 'done') return `done, ${formatBytes(row.bytes)} in ${timing}${row.summary ? ` — ${row.summary}` : ''}`;
  if (row.totalBytes) {
    const fraction = Math.min(1, row.bytes / Math.max(1, row.totalBytes));
    return `${bar(fraction)} ${Math.floor(fraction * 100)}%  ${formatBytes(row.bytes)} of ${formatBytes(row.totalBytes)}, ${timing}`;
  }
  return `${PHASE_WORDS[row.phase]}… ${formatBytes(row.bytes)}, ${timing}`;
}

/** A fraction (0–1) as a bar of full and empty blocks, the same width on every line; full only at 1. */
export function bar(fraction: number): string {
  const filled = Math.floor(Math.min(1, Math.max(0, fraction)) * BAR_WIDTH);
  return `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
}
