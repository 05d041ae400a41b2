import type { RunEvent } from '../../model/events.js';
import type { TuiBackend } from '../backend.js';
import type { CancellableWork, PendingQuestion } from '../hooks.js';
import type { ProgressState } from '../progressState.js';
import type { Screen, ScreenAction } from '../screenState.js';

/** What a flow's screens use from the interface: the backend, the running work, progress, and the moves. */
export interface Flow {
  readonly backend: TuiBackend;
  readonly work: CancellableWork;
  readonly progress: ProgressState;
  /** Core events of the running work, folded into `progress`. */
  readonly onEvent: (event: RunEvent) => void;
  readonly show: (next: Screen) => void;
  readonly dispatch: (action: ScreenAction) => void;
  /** Leaves the interface with the exit code so far. */
  readonly leave: () => void;
  /** The restore's pending "replace this file?" question, if any. */
  readonly question: PendingQuestion | undefined;
}

/** The screens of one flow, by the prefix of their kind. */
export type FlowScreen<Prefix extends string> = Extract<Screen, { kind: `${Prefix}-${string}` }>;

export function inFlow<Prefix extends 'backup' | 'restore' | 'drill'>(screen: Screen, prefix: Prefix): screen is FlowScreen<Prefix> {
  return screen.kind.startsWith(`${prefix}-`);
}
