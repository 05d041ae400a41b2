import { Box, Text, useApp, useInput } from 'ink';
import { useCallback, useEffect, useReducer, useRef } from 'react';
import type { RunEvent } from '../core/events.js';
import { dryRunLines } from '../core/reports.js';
import { drillLines } from '../core/drill/drillReport.js';
import type { TuiBackend } from './backend.js';
import { useCancellableWork, useOverwriteQuestion } from './hooks.js';
import { EMPTY_PROGRESS, reduceProgress } from './progressState.js';
import { initialState, previousScreen, reduceScreen, type Entry, type Screen, type ScreenAction } from './screenState.js';
import { ArchivePickScreen } from './screens/ArchivePickScreen.js';
import { BackupSelectScreen } from './screens/BackupSelectScreen.js';
import { ConfirmScreen } from './screens/ConfirmScreen.js';
import { GateScreen } from './screens/GateScreen.js';
import { ReportScreen } from './screens/ReportScreen.js';
import { RestoreComponentsScreen } from './screens/RestoreComponentsScreen.js';
import { RestoreModeScreen } from './screens/RestoreModeScreen.js';
import { StartScreen } from './screens/StartScreen.js';
import { BackupSummary, RestoreSummary } from './screens/SummaryScreens.js';
import { WorkingScreen } from './screens/WorkingScreen.js';
import { HelpLine } from './widgets/HelpLine.js';

export type { Screen } from './screenState.js';

export interface AppProps {
  backend: TuiBackend;
  /** Aborted when the process gets SIGINT/SIGTERM from outside: running work is cancelled. */
  signal?: AbortSignal;
  initial: Entry;
  /** Called once with the exit code when the operator leaves. */
  onExit: (code: number) => void;
}

/**
 * The interactive interface: screens over the core. Moves between screens are the pure
 * `reduceScreen`; work goes through the backend (`useCancellableWork`); progress arrives as
 * core events folded by `reduceProgress`. Screens render state and report choices.
 */
export function App({ backend, initial, onExit, signal }: AppProps) {
  const { exit } = useApp();
  const [{ screen, exitCode }, dispatchScreen] = useReducer(reduceScreen, initial, initialState);
  const [progress, dispatchProgress] = useReducer(reduceProgress, EMPTY_PROGRESS);
  const onEvent = useCallback((event: RunEvent) => dispatchProgress(event), []);
  const dispatch = useCallback((action: ScreenAction | { type: 'reset-progress' }) => {
    if (action.type === 'reset-progress') dispatchProgress({ type: 'reset' });
    else dispatchScreen(action);
  }, []);
  const exitCodeNow = useRef(exitCode);
  exitCodeNow.current = exitCode;
  const leave = useCallback(
    (code = exitCodeNow.current) => {
      onExit(code);
      exit();
    },
    [exit, onExit],
  );
  const work = useCancellableWork(dispatch, leave);
  const { question, overwrite } = useOverwriteQuestion();
  const show = (next: Screen) => dispatch({ type: 'show', screen: next });

  useEffect(() => {
    if (screen.kind === 'backup-select' && !screen.choices) {
      void work.run(
        () => backend.componentChoices(),
        (choices) => ({ type: 'show', screen: { kind: 'backup-select', choices } }),
      );
    } else if ((screen.kind === 'restore-pick' || screen.kind === 'drill-pick') && !screen.archives) {
      const kind = screen.kind;
      void work.run(
        () => backend.listArchives(),
        (archives) => ({ type: 'show', screen: { kind, archives } }),
      );
    } else if (screen.kind === 'restore-running' && !work.busy()) {
      // Entered only through the gate's word (see reduceScreen).
      const { preview } = screen;
      void work.run(
        (signal) => backend.restore(preview, overwrite, onEvent, signal),
        (outcome) => ({ type: 'restore-finished', outcome }),
      );
    }
  }, [screen, backend, work, overwrite, onEvent]);

  useEffect(() => {
    const onAbort = () => work.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    return () => signal?.removeEventListener('abort', onAbort);
  });

  useInput((input, key) => {
    if (key.ctrl && input === 'c') return work.cancel();
    if (screen.kind === 'restore-gate') {
      if (key.escape) dispatch({ type: 'gate-cancelled' });
      return;
    }
    if (question) return;
    if (input === 'q') return work.busy() ? work.cancel() : leave();
    if (key.escape) {
      if (work.busy()) return work.cancel();
      return screenAfterEsc(screen, initial) ? dispatch({ type: 'back', entry: initial }) : leave();
    }
    if (screen.kind === 'message' && key.return) return screen.back ? show(screen.back) : leave();
    if ((screen.kind === 'backup-done' || screen.kind === 'restore-done') && key.return) leave();
  });

  switch (screen.kind) {
    case 'start':
      return (
        <StartScreen
          projectDir={backend.projectDir}
          onChoose={(choice) =>
            show(choice === 'backup' ? { kind: 'backup-select' } : choice === 'drill' ? { kind: 'drill-pick' } : { kind: 'restore-pick' })
          }
        />
      );
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
      return <BackupSummary result={screen.result} />;
    case 'restore-pick':
      return <ArchivePickScreen archives={screen.archives} onPick={(archive) => show({ kind: 'restore-components', archive })} />;
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
          onChoose={(dryRun) => {
            const { archive, components } = screen;
            show({ kind: 'restore-checking', archive, components, dryRun });
            void work.run(
              (signal) => backend.previewRestore(archive.file, components, onEvent, signal),
              (preview) => ({ type: 'preview-ready', preview }),
              { kind: 'restore-mode', archive, components },
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
          onDone={() => show({ kind: 'restore-mode', archive: screen.archive, components: screen.components })}
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
      return <RestoreSummary outcome={screen.outcome} />;
    case 'drill-pick':
      return (
        <ArchivePickScreen
          title="Drill — choose the archive to restore into throwaway containers"
          archives={screen.archives}
          onPick={(archive) => {
            show({ kind: 'drill-running', archive });
            void work.run(
              (signal) => backend.drill(archive.file, onEvent, signal),
              (report) => ({ type: 'drill-finished', report }),
              { kind: 'drill-pick', archives: screen.archives },
            );
          }}
        />
      );
    case 'drill-running':
      return <WorkingScreen title={`Drill of ${screen.archive.name}: throwaway containers, restore, checks`} progress={progress} />;
    case 'drill-done':
      return (
        <ReportScreen title={screen.report.ok ? 'Drill passed' : 'Drill FAILED'} lines={drillLines(screen.report)} onDone={() => leave()} />
      );
    case 'message':
      return (
        <Box flexDirection="column">
          <Text color={screen.tone === 'error' ? 'red' : 'yellow'}>{screen.text}</Text>
          <HelpLine keys={screen.back ? 'enter or esc back · q quit' : 'enter or q quit'} />
        </Box>
      );
  }
}

/** Whether Esc has a screen to go back to here (else it leaves the interface). */
function screenAfterEsc(screen: Screen, entry: Entry): boolean {
  return previousScreen(screen, entry) !== undefined;
}
