import { Box, Text, useApp, useInput } from 'ink';
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import type { OverwritePolicy } from '../core/component.js';
import { AbortedError, describeError } from '../base/errors.js';
import type { RunEvent } from '../core/events.js';
import { formatBytes, formatDuration } from '../base/format.js';
import { dryRunLines } from '../core/reports.js';
import { confirmsRestore, GATE_WORD, type RestoreOutcome } from '../core/restore.js';
import type { ArchiveListing, BackupResultView, ComponentChoice, RestorePreview, TuiBackend } from './backend.js';
import { EMPTY_PROGRESS, reduceProgress } from './progressState.js';
import { ArchivePickScreen } from './screens/ArchivePickScreen.js';
import { BackupSelectScreen } from './screens/BackupSelectScreen.js';
import { ConfirmScreen } from './screens/ConfirmScreen.js';
import { GateScreen } from './screens/GateScreen.js';
import { ReportScreen } from './screens/ReportScreen.js';
import { RestoreComponentsScreen } from './screens/RestoreComponentsScreen.js';
import { RestoreModeScreen } from './screens/RestoreModeScreen.js';
import { StartScreen } from './screens/StartScreen.js';
import { HelpLine } from './widgets/HelpLine.js';
import { ProgressRows } from './widgets/ProgressRows.js';

export type Screen =
  | { kind: 'start' }
  | { kind: 'backup-select'; choices?: ComponentChoice[] }
  | { kind: 'backup-confirm'; selected: string[]; choices: ComponentChoice[] }
  | { kind: 'backup-running'; selected: string[] }
  | { kind: 'backup-done'; result: BackupResultView }
  | { kind: 'restore-pick'; archives?: ArchiveListing[] }
  | { kind: 'restore-components'; archive: ArchiveListing }
  | { kind: 'restore-mode'; archive: ArchiveListing; components: string[] }
  | { kind: 'restore-checking'; archive: ArchiveListing; components: string[]; dryRun: boolean }
  | { kind: 'restore-report'; archive: ArchiveListing; components: string[]; preview: RestorePreview }
  | { kind: 'restore-gate'; archive: ArchiveListing; components: string[]; preview: RestorePreview }
  | { kind: 'restore-running'; preview: RestorePreview }
  | { kind: 'restore-done'; preview: RestorePreview; outcome: RestoreOutcome }
  | { kind: 'message'; tone: 'error' | 'info'; text: string; back?: Screen };

export interface AppProps {
  backend: TuiBackend;
  /** Aborted when the process gets SIGINT/SIGTERM from outside: running work is cancelled. */
  signal?: AbortSignal;
  initial: 'start' | 'backup' | 'restore';
  /** Called once with the exit code when the operator leaves. */
  onExit: (code: number) => void;
}

interface PendingQuestion {
  text: string;
  answer: (yes: boolean) => void;
}

/**
 * The interactive interface: a small state machine of screens over the core. Screens render
 * state and report choices; work goes through the backend; progress arrives as core events.
 */
export function App({ backend, initial, onExit, signal }: AppProps) {
  const { exit } = useApp();
  const [screen, setScreen] = useState<Screen>(() => initialScreen(initial));
  const [progress, dispatch] = useReducer(reduceProgress, EMPTY_PROGRESS);
  const [question, setQuestion] = useState<PendingQuestion>();
  const work = useRef<AbortController | undefined>(undefined);
  const exitCode = useRef(0);
  const onEvent = useCallback((event: RunEvent) => dispatch(event), []);

  const leave = useCallback(
    (code = exitCode.current) => {
      onExit(code);
      exit();
    },
    [exit, onExit],
  );

  /** Runs core work cancellably; its result or error decides the next screen. */
  const run = useCallback(
    async <T,>(task: (signal: AbortSignal) => Promise<T>, next: (value: T) => Screen, back?: Screen) => {
      const controller = new AbortController();
      work.current = controller;
      dispatch({ type: 'reset' });
      try {
        const value = await task(controller.signal);
        if (!controller.signal.aborted) setScreen(next(value));
        else leave(1);
      } catch (error) {
        exitCode.current = 1;
        if (controller.signal.aborted) leave(1);
        else setScreen({ kind: 'message', tone: 'error', text: describeError(error), back });
      } finally {
        work.current = undefined;
      }
    },
    [leave],
  );

  useEffect(() => {
    if (screen.kind === 'backup-select' && !screen.choices) {
      void run(
        () => backend.componentChoices(),
        (choices) => ({ kind: 'backup-select', choices }),
      );
    } else if (screen.kind === 'restore-pick' && !screen.archives) {
      void run(
        () => backend.listArchives(),
        (archives) => ({ kind: 'restore-pick', archives }),
      );
    }
  }, [screen, backend, run]);

  useEffect(() => {
    const onAbort = () => cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    return () => signal?.removeEventListener('abort', onAbort);
  });

  useInput((input, key) => {
    const busy = Boolean(work.current);
    if (key.ctrl && input === 'c') return cancel();
    if (screen.kind === 'restore-gate') {
      if (key.escape) cancelGate();
      return;
    }
    if (question) return;
    if (input === 'q') return busy ? cancel() : leave();
    if (key.escape) {
      if (busy) return cancel();
      const back = previous(screen, initial);
      return back ? setScreen(back) : leave();
    }
    if (screen.kind === 'message' && key.return) return screen.back ? setScreen(screen.back) : leave();
    if ((screen.kind === 'backup-done' || screen.kind === 'restore-done') && key.return) leave();
  });

  function cancel() {
    if (work.current) {
      // The work unwinds (partial archive removed, containers started again), then we leave.
      work.current.abort(new AbortedError('cancelled by the operator'));
      setScreen({ kind: 'message', tone: 'info', text: 'Cancelling… partial files are being removed.' });
    } else {
      leave(1);
    }
  }

  function cancelGate() {
    exitCode.current = 1;
    setScreen({ kind: 'message', tone: 'info', text: 'Restore not confirmed. Nothing was changed.' });
  }

  const overwrite: OverwritePolicy = {
    mode: 'ask',
    confirm: (text) => new Promise((answer) => setQuestion({ text, answer: (yes) => (setQuestion(undefined), answer(yes)) })),
  };

  switch (screen.kind) {
    case 'start':
      return (
        <StartScreen
          projectDir={backend.projectDir}
          onChoose={(choice) => setScreen(choice === 'backup' ? { kind: 'backup-select' } : { kind: 'restore-pick' })}
        />
      );
    case 'backup-select':
      return (
        <BackupSelectScreen
          choices={screen.choices}
          onSubmit={(selected) => setScreen({ kind: 'backup-confirm', selected, choices: screen.choices ?? [] })}
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
            if (!yes) return setScreen({ kind: 'backup-select', choices: screen.choices });
            setScreen({ kind: 'backup-running', selected: screen.selected });
            const skippedReasons = skipped.map((choice) => ({ component: choice.name, reason: choice.reason ?? 'not selected' }));
            void run(
              (signal) => backend.backup(screen.selected, onEvent, signal),
              (result) => ({ kind: 'backup-done', result: { ...result, skipped: skippedReasons } }),
              { kind: 'backup-select', choices: screen.choices },
            );
          }}
        />
      );
    }
    case 'backup-running':
      return <Working title="Backing up" progress={progress} />;
    case 'backup-done':
      return <BackupSummary result={screen.result} />;
    case 'restore-pick':
      return <ArchivePickScreen archives={screen.archives} onPick={(archive) => setScreen({ kind: 'restore-components', archive })} />;
    case 'restore-components':
      return (
        <RestoreComponentsScreen
          archive={screen.archive}
          onSubmit={(components) => setScreen({ kind: 'restore-mode', archive: screen.archive, components })}
        />
      );
    case 'restore-mode':
      return (
        <RestoreModeScreen
          name={screen.archive.name}
          components={screen.components}
          onChoose={(dryRun) => {
            const { archive, components } = screen;
            setScreen({ kind: 'restore-checking', archive, components, dryRun });
            void run(
              (signal) => backend.previewRestore(archive.file, components, onEvent, signal),
              (preview): Screen => {
                const failed = preview.plans.filter((entry) => entry.failure);
                if (dryRun) return { kind: 'restore-report', archive, components, preview };
                if (failed.length > 0) {
                  exitCode.current = 1;
                  const reasons = failed.map((entry) => `${entry.component.name}: ${entry.failure}`).join('\n');
                  return {
                    kind: 'message',
                    tone: 'error',
                    text: `Restore refused, nothing was changed:\n${reasons}`,
                    back: { kind: 'restore-mode', archive, components },
                  };
                }
                return { kind: 'restore-gate', archive, components, preview };
              },
              { kind: 'restore-mode', archive, components },
            );
          }}
        />
      );
    case 'restore-checking':
      return (
        <Working
          title={screen.dryRun ? 'Dry run: checking the archive and every precondition' : 'Checking the archive and every precondition'}
          progress={progress}
        />
      );
    case 'restore-report':
      return (
        <ReportScreen
          title={`Dry run of ${screen.archive.name}`}
          lines={dryRunLines(screen.preview.archive, screen.preview.plans)}
          onDone={() => setScreen({ kind: 'restore-mode', archive: screen.archive, components: screen.components })}
        />
      );
    case 'restore-gate':
      return (
        <GateScreen
          name={screen.archive.name}
          plans={screen.preview.plans}
          onAnswer={(word) => {
            if (!confirmsRestore(word)) {
              exitCode.current = 1;
              return setScreen({
                kind: 'message',
                tone: 'info',
                text: `"${word}" is not "${GATE_WORD}": the restore was not started. Nothing was changed.`,
              });
            }
            const { preview } = screen;
            setScreen({ kind: 'restore-running', preview });
            void run(
              (signal) => backend.restore(preview, overwrite, onEvent, signal),
              (outcome) => {
                if (outcome.failed) exitCode.current = 1;
                return { kind: 'restore-done', preview, outcome };
              },
            );
          }}
        />
      );
    case 'restore-running':
      return (
        <Box flexDirection="column">
          <Working title="Restoring" progress={progress} />
          {question ? <Question question={question} /> : null}
        </Box>
      );
    case 'restore-done':
      return <RestoreSummary outcome={screen.outcome} />;
    case 'message':
      return (
        <Box flexDirection="column">
          <Text color={screen.tone === 'error' ? 'red' : 'yellow'}>{screen.text}</Text>
          <HelpLine keys={screen.back ? 'enter or esc back · q quit' : 'enter or q quit'} />
        </Box>
      );
  }
}

function initialScreen(initial: AppProps['initial']): Screen {
  if (initial === 'backup') return { kind: 'backup-select' };
  if (initial === 'restore') return { kind: 'restore-pick' };
  return { kind: 'start' };
}

/** Where Esc goes from each screen; undefined leaves the interface. */
function previous(screen: Screen, initial: AppProps['initial']): Screen | undefined {
  const home: Screen | undefined = initial === 'start' ? { kind: 'start' } : undefined;
  switch (screen.kind) {
    case 'backup-select':
      return initial === 'backup' ? undefined : home;
    case 'backup-confirm':
      return { kind: 'backup-select', choices: screen.choices };
    case 'restore-pick':
      return initial === 'restore' ? undefined : home;
    case 'restore-components':
      return { kind: 'restore-pick' };
    case 'restore-mode':
      return { kind: 'restore-components', archive: screen.archive };
    case 'restore-report':
      return { kind: 'restore-mode', archive: screen.archive, components: screen.components };
    case 'message':
      return screen.back;
    default:
      return undefined;
  }
}

function Working({ title, progress }: { title: string; progress: ReturnType<typeof reduceProgress> }) {
  return (
    <Box flexDirection="column">
      <Text bold>{title}</Text>
      <Box marginTop={1}>
        <ProgressRows rows={progress.rows} />
      </Box>
      {progress.steps.slice(-1).map((step) => (
        <Text key={step} dimColor>
          {step}
        </Text>
      ))}
      <HelpLine keys="ctrl-c or q cancel (partial work is undone)" />
    </Box>
  );
}

function Question({ question }: { question: PendingQuestion }) {
  useInput((input) => {
    if (input === 'y') question.answer(true);
    else if (input === 'n' || input === 'q') question.answer(false);
  });
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text color="yellow">{question.text}</Text>
      <Text dimColor>y replace (the current file is kept aside) · n keep the current file</Text>
    </Box>
  );
}

function BackupSummary({ result }: { result: BackupResultView }) {
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
      <HelpLine keys="enter or q quit" />
    </Box>
  );
}

function RestoreSummary({ outcome }: { outcome: RestoreOutcome }) {
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
