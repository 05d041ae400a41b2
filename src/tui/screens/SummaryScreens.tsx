import { Box, Text } from 'ink';
import { formatBytes, formatDuration } from '../../base/format.js';
import type { RestoreOutcome } from '../../core/restore.js';
import type { BackupResultView } from '../backend.js';
import { HelpLine } from '../widgets/HelpLine.js';

export function BackupSummary({ result }: { result: BackupResultView }) {
  return (
    <Box flexDirection="column">
      <Text bold color="green">
        Backup complete
      </Text>
      <Text>Archive: {result.archivePath}</Text>
      <Text>
        Size: {formatBytes(result.archiveBytes)} · took {formatDuration(result.elapsedMs)}
      </Text>
      <Text>Captured: {result.components.join(', ')}</Text>
      {result.skipped.map((entry) => (
        <Text key={entry.component} color="yellow">
          Skipped {entry.component}: {entry.reason}
        </Text>
      ))}
      {result.anomalies && result.anomalies.length > 0 ? (
        <>
          <Text bold color="yellow">
            Anomaly: differs from the baseline {result.baseline}
          </Text>
          {result.anomalies.map((message) => (
            <Text key={message} color="yellow">
              {'  '}
              {message}
            </Text>
          ))}
        </>
      ) : null}
      <HelpLine keys="enter or q quit" />
    </Box>
  );
}

export function RestoreSummary({ outcome }: { outcome: RestoreOutcome }) {
  return (
    <Box flexDirection="column">
      <Text bold color={outcome.failed ? 'red' : 'green'}>
        {outcome.failed ? 'Restore stopped' : 'Restore complete'}
      </Text>
      {outcome.restored.map((entry) => (
        <Text key={entry.component}>
          ✔ {entry.component}
          {entry.summary ? `: ${entry.summary}` : ''}
        </Text>
      ))}
      {outcome.failed ? (
        <Text color="red">
          ✘ {outcome.failed.component}: {outcome.failed.message}
        </Text>
      ) : null}
      {outcome.notRestored.map((name) => (
        <Text key={name} color="yellow">
          – {name}: not started
        </Text>
      ))}
      <HelpLine keys="enter or q quit" />
    </Box>
  );
}
