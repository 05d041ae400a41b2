import { Box, Text, useApp, useInput } from 'ink';
import { useCallback, useEffect, useReducer, useRef } from 'react';
import type { RunEvent } from '../model/events.js';
import type { TuiBackend } from './backend.js';
import { backupScreen } from './flows/backupFlow.js';
import { drillScreen } from './flows/drillFlow.js';
import { useEntryWork } from './flows/entryWork.js';
import { inFlow, type Flow } from './flows/flow.js';
import { restoreScreen } from './flows/restoreFlow.js';
import { useCancellableWork, useOverwriteQuestion } from './hooks.js';
import { EMPTY_PROGRESS, reduceProgress } from './progressState.js';
import { initialState, previousScreen, reduceScreen, type Entry, type Screen, type ScreenAction } from './screenState.js';
import { StartScreen } from './screens/StartScreen.js';
import { StatusScreen } from './screens/StatusScreen.js';
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
 * core events folded by `reduceProgress`. The screens of each flow (backup, restore, drill) are
 * in flows/; screens render state and report choices.
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

  useEntryWork(screen, backend, work, overwrite, onEvent);

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
    // The picker reads its own keys (a typed filter holds q); a typed target may too.
    if (screen.kind === 'restore-browse') return;
    if (screen.kind === 'restore-beside') {
      if (key.escape) dispatch({ type: 'back', entry: initial });
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

  const flow: Flow = { backend, work, progress, onEvent, show, dispatch, leave, question };
  if (inFlow(screen, 'backup')) return backupScreen(screen, flow);
  if (inFlow(screen, 'restore')) return restoreScreen(screen, flow);
  if (inFlow(screen, 'drill')) return drillScreen(screen, flow);
  if (screen.kind === 'status') return <StatusScreen view={screen.view} onDone={() => show({ kind: 'start' })} />;
  if (screen.kind === 'start') {
    return (
      <StartScreen
        projectDir={backend.projectDir}
        onChoose={(choice) =>
          show(
            choice === 'backup'
              ? { kind: 'backup-select' }
              : choice === 'drill'
                ? { kind: 'drill-pick' }
                : choice === 'status'
                  ? { kind: 'status' }
                  : { kind: 'restore-pick' },
          )
        }
      />
    );
  }
  return (
    <Box flexDirection="column">
      <Text color={screen.tone === 'error' ? 'red' : 'yellow'}>{screen.text}</Text>
      <HelpLine keys={screen.back ? 'enter or esc back · q quit' : 'enter or q quit'} />
    </Box>
  );
}

/** Whether Esc has a screen to go back to here (else it leaves the interface). */
function screenAfterEsc(screen: Screen, entry: Entry): boolean {
  return previousScreen(screen, entry) !== undefined;
}
