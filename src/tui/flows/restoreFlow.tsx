import { Box } from 'ink';
import { dryRunLines } from '../../core/reports.js';
import { ArchivePickScreen } from '../screens/ArchivePickScreen.js';
import { GateScreen } from '../screens/GateScreen.js';
import { ReportScreen } from '../screens/ReportScreen.js';
import { RestoreComponentsScreen } from '../screens/RestoreComponentsScreen.js';
import { RestoreModeScreen } from '../screens/RestoreModeScreen.js';
import { RestoreSummary } from '../screens/SummaryScreens.js';
import { WorkingScreen } from '../screens/WorkingScreen.js';
import { isPickScreen, pickScreen } from './pickFlow.js';
import { FinalOverallBar } from '../widgets/OverallBar.js';
import type { Flow, FlowScreen } from './flow.js';

/**
 * Restore: pick an archive and its components, choose a dry run or the real thing, have the
 * archive and every precondition checked, then read the report or type the gate's word, and
 * watch it run.
 */
export function restoreScreen(screen: FlowScreen<'restore'>, { backend, work, progress, onEvent, show, dispatch, leave, question }: Flow) {
  if (isPickScreen(screen)) return pickScreen(screen, backend, show, leave);
  switch (screen.kind) {
    case 'restore-pick':
      return <ArchivePickScreen archives={screen.archives} onPick={(archive) => show({ kind: 'restore-how', archive })} />;
    case 'restore-components':
      return (
        <RestoreComponentsScreen
          archive={screen.archive}
          onSubmit={(components) => show({ kind: 'restore-mode', archive: screen.archive, components })}
        />
      );
    case 'restore-mode':
      return (
        <RestoreModeScreen
          name={screen.archive.name}
          components={screen.components}
          choice={screen.choice}
          onChoose={(dryRun) => {
            const { archive, components, choice } = screen;
            show({ kind: 'restore-checking', archive, components, dryRun, choice });
            void work.run(
              (signal) => backend.previewRestore(archive.file, components, onEvent, signal, choice?.selectors),
              (preview) => ({ type: 'preview-ready', preview }),
              { kind: 'restore-mode', archive, components, choice },
            );
          }}
        />
      );
    case 'restore-checking':
      return (
        <WorkingScreen
          title={screen.dryRun ? 'Dry run: checking the archive and every precondition' : 'Checking the archive and every precondition'}
          progress={progress}
        />
      );
    case 'restore-report':
      return (
        <ReportScreen
          title={`Dry run of ${screen.archive.name}`}
          lines={dryRunLines(screen.preview.archive, screen.preview.plans)}
          onDone={() => show({ kind: 'restore-mode', archive: screen.archive, components: screen.components, choice: screen.choice })}
        />
      );
    case 'restore-gate':
      return (
        <GateScreen
          name={screen.archive.name}
          plans={screen.preview.plans}
          onAnswer={(word) => dispatch({ type: 'gate-answered', word })}
        />
      );
    case 'restore-running':
      return <WorkingScreen title="Restoring" progress={progress} question={question} />;
    case 'restore-done':
      return (
        <Box flexDirection="column">
          <FinalOverallBar overall={progress.overall} />
          <RestoreSummary outcome={screen.outcome} />
        </Box>
      );
  }
}
