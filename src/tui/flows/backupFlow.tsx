import { Box } from 'ink';
import { BackupSelectScreen } from '../screens/BackupSelectScreen.js';
import { ConfirmScreen } from '../screens/ConfirmScreen.js';
import { BackupSummary } from '../screens/SummaryScreens.js';
import { WorkingScreen } from '../screens/WorkingScreen.js';
import { FinalOverallBar } from '../widgets/OverallBar.js';
import type { Flow, FlowScreen } from './flow.js';

/** Backup: choose the components, confirm, watch it run, read the summary. */
export function backupScreen(screen: FlowScreen<'backup'>, { backend, work, progress, onEvent, show }: Flow) {
  switch (screen.kind) {
    case 'backup-select':
      return (
        <BackupSelectScreen
          choices={screen.choices}
          onSubmit={(selected) => show({ kind: 'backup-confirm', selected, choices: screen.choices ?? [] })}
        />
      );
    case 'backup-confirm': {
      const skipped = screen.choices.filter((choice) => !screen.selected.includes(choice.name));
      return (
        <ConfirmScreen
          title="Back up now?"
          lines={[
            `Components: ${screen.selected.join(', ')}`,
            ...skipped.map((choice) => `Left out: ${choice.name}${choice.reason ? ` (${choice.reason})` : ''}`),
            'The archive goes to ./backups/ with mode 0600: it holds every secret of the deployment.',
          ]}
          onAnswer={(yes) => {
            if (!yes) return show({ kind: 'backup-select', choices: screen.choices });
            show({ kind: 'backup-running', selected: screen.selected });
            const skippedReasons = skipped.map((choice) => ({ component: choice.name, reason: choice.reason ?? 'not selected' }));
            void work.run(
              (signal) => backend.backup(screen.selected, onEvent, signal),
              (result) => ({ type: 'backup-done', result: { ...result, skipped: skippedReasons } }),
              { kind: 'backup-select', choices: screen.choices },
            );
          }}
        />
      );
    }
    case 'backup-running':
      return <WorkingScreen title="Backing up" progress={progress} />;
    case 'backup-done':
      return (
        <Box flexDirection="column">
          <FinalOverallBar overall={progress.overall} />
          <BackupSummary result={screen.result} />
        </Box>
      );
  }
}
