import { Text } from 'ink';
import { lastRunLines, statusLines } from '../../core/status/statusReport.js';
import type { StatusView } from '../backend.js';
import { ReportScreen } from './ReportScreen.js';

/** What `orkestra-backup status` prints, then the last runs of the history, newest first; enter or esc returns to the start. */
export function StatusScreen({ view, onDone }: { view: StatusView | undefined; onDone: () => void }) {
  if (!view) return <Text>Reading the archives and the history…</Text>;
  const lines = [...statusLines(view.status), { text: '' }, { text: 'Last runs, newest first:' }, ...lastRunLines(view.runs)];
  return <ReportScreen title={`Status — backups of environment ${view.status.environment}`} lines={lines} onDone={onDone} />;
}
