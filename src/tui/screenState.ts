import { confirmsRestore, GATE_WORD, type RestoreOutcome } from '../core/restore.js';
import type {
  ArchiveListing,
  BackupResultView,
  ComponentChoice,
  DrillReport,
  PicksByComponent,
  RestorePreview,
  SelectorValues,
  StatusView,
} from './backend.js';
import type { PickedSelection } from './pickerState.js';

/** A restore of picked items: the picks, and the selector values it runs with (beside targets included). */
export interface RestoreChoice {
  readonly picked: PickedSelection;
  readonly selectors: SelectorValues;
}

export type Screen =
  | { kind: 'start' }
  | { kind: 'backup-select'; choices?: ComponentChoice[] }
  | { kind: 'backup-confirm'; selected: string[]; choices: ComponentChoice[] }
  | { kind: 'backup-running'; selected: string[] }
  | { kind: 'backup-done'; result: BackupResultView }
  | { kind: 'restore-pick'; archives?: ArchiveListing[] }
  | { kind: 'restore-how'; archive: ArchiveListing }
  | { kind: 'restore-components'; archive: ArchiveListing }
  | { kind: 'restore-browse'; archive: ArchiveListing; picks?: PicksByComponent }
  | { kind: 'restore-place'; archive: ArchiveListing; picked: PickedSelection }
  | { kind: 'restore-beside'; archive: ArchiveListing; picked: PickedSelection; answers: Readonly<Record<string, string>> }
  | { kind: 'restore-mode'; archive: ArchiveListing; components: string[]; choice?: RestoreChoice }
  | { kind: 'restore-checking'; archive: ArchiveListing; components: string[]; dryRun: boolean; choice?: RestoreChoice }
  | { kind: 'restore-report'; archive: ArchiveListing; components: string[]; preview: RestorePreview; choice?: RestoreChoice }
  | { kind: 'restore-gate'; archive: ArchiveListing; components: string[]; preview: RestorePreview; choice?: RestoreChoice }
  | { kind: 'restore-running'; preview: RestorePreview }
  | { kind: 'restore-done'; preview: RestorePreview; outcome: RestoreOutcome }
  | { kind: 'drill-pick'; archives?: ArchiveListing[] }
  | { kind: 'drill-running'; archive: ArchiveListing }
  | { kind: 'drill-done'; report: DrillReport }
  | { kind: 'status'; view?: StatusView }
  | { kind: 'message'; tone: 'error' | 'info'; text: string; back?: Screen };

/** Where the interface opened: the start menu, or straight into backup or restore. */
export type Entry = 'start' | 'backup' | 'restore';

export interface ScreenState {
  readonly screen: Screen;
  /** What the process exits with when the operator leaves: 1 once anything failed or was refused. */
  readonly exitCode: number;
}

export type ScreenAction =
  /** A plain move to another screen (a choice made, data loaded). */
  | { type: 'show'; screen: Screen }
  /** Esc on a screen with somewhere to go back to (see `previousScreen`). */
  | { type: 'back'; entry: Entry }
  | { type: 'work-failed'; message: string; back?: Screen }
  | { type: 'cancelling' }
  | { type: 'backup-done'; result: BackupResultView }
  | { type: 'preview-ready'; preview: RestorePreview }
  | { type: 'gate-answered'; word: string }
  | { type: 'gate-cancelled' }
  | { type: 'restore-finished'; outcome: RestoreOutcome }
  | { type: 'drill-finished'; report: DrillReport };

export function initialState(entry: Entry): ScreenState {
  const screen: Screen =
    entry === 'backup' ? { kind: 'backup-select' } : entry === 'restore' ? { kind: 'restore-pick' } : { kind: 'start' };
  return { screen, exitCode: 0 };
}

/**
 * Every move between screens, pure (as `progressState.ts` is for progress): the gate's word,
 * a refused plan, a failure and a cancellation each lead to one screen and one exit code.
 */
export function reduceScreen(state: ScreenState, action: ScreenAction): ScreenState {
  const { screen } = state;
  switch (action.type) {
    case 'show':
      return { ...state, screen: action.screen };
    case 'back': {
      const back = previousScreen(screen, action.entry);
      return back ? { ...state, screen: back } : state;
    }
    case 'work-failed':
      return { exitCode: 1, screen: { kind: 'message', tone: 'error', text: action.message, back: action.back } };
    case 'cancelling':
      return { ...state, screen: { kind: 'message', tone: 'info', text: 'Cancelling… partial files are being removed.' } };
    case 'backup-done':
      return { ...state, screen: { kind: 'backup-done', result: action.result } };
    case 'preview-ready':
      return screen.kind === 'restore-checking' ? previewed(state, screen, action.preview) : state;
    case 'gate-answered':
      if (screen.kind !== 'restore-gate') return state;
      if (confirmsRestore(action.word)) return { ...state, screen: { kind: 'restore-running', preview: screen.preview } };
      return refused(`"${action.word}" is not "${GATE_WORD}": the restore was not started. Nothing was changed.`);
    case 'gate-cancelled':
      return refused('Restore not confirmed. Nothing was changed.');
    case 'restore-finished':
      if (screen.kind !== 'restore-running') return state;
      return {
        exitCode: action.outcome.failed ? 1 : state.exitCode,
        screen: { kind: 'restore-done', preview: screen.preview, outcome: action.outcome },
      };
    case 'drill-finished':
      if (screen.kind !== 'drill-running') return state;
      return { exitCode: action.report.ok ? state.exitCode : 1, screen: { kind: 'drill-done', report: action.report } };
  }
}

/** The dry run's report, or the gate, or the refusal when a precondition failed. */
function previewed(state: ScreenState, screen: Extract<Screen, { kind: 'restore-checking' }>, preview: RestorePreview): ScreenState {
  const { archive, components, choice } = screen;
  if (screen.dryRun) return { ...state, screen: { kind: 'restore-report', archive, components, preview, choice } };
  const failed = preview.plans.filter((entry) => entry.failure);
  if (failed.length === 0) return { ...state, screen: { kind: 'restore-gate', archive, components, preview, choice } };
  const reasons = failed.map((entry) => `${entry.component.name}: ${entry.failure}`).join('\n');
  return {
    exitCode: 1,
    screen: {
      kind: 'message',
      tone: 'error',
      text: `Restore refused, nothing was changed:\n${reasons}`,
      back: { kind: 'restore-mode', archive, components, choice },
    },
  };
}

function refused(text: string): ScreenState {
  return { exitCode: 1, screen: { kind: 'message', tone: 'info', text } };
}

/** Where Esc goes from each screen; undefined leaves the interface. */
export function previousScreen(screen: Screen, entry: Entry): Screen | undefined {
  const home: Screen | undefined = entry === 'start' ? { kind: 'start' } : undefined;
  switch (screen.kind) {
    case 'backup-select':
      return entry === 'backup' ? undefined : home;
    case 'backup-confirm':
      return { kind: 'backup-select', choices: screen.choices };
    case 'restore-pick':
      return entry === 'restore' ? undefined : home;
    case 'restore-how':
      return { kind: 'restore-pick' };
    case 'restore-components':
    case 'restore-browse':
      return { kind: 'restore-how', archive: screen.archive };
    case 'restore-place':
      return { kind: 'restore-browse', archive: screen.archive, picks: screen.picked.picks };
    case 'restore-beside':
      return { kind: 'restore-place', archive: screen.archive, picked: screen.picked };
    case 'restore-mode':
      if (screen.choice) return { kind: 'restore-place', archive: screen.archive, picked: screen.choice.picked };
      return { kind: 'restore-components', archive: screen.archive };
    case 'restore-report':
      return { kind: 'restore-mode', archive: screen.archive, components: screen.components, choice: screen.choice };
    case 'drill-pick':
    case 'status':
      return home;
    case 'message':
      return screen.back;
    default:
      return undefined;
  }
}

/**
 * The beside target typed for the next picked component that needs one; once every one has its
 * target, the restore's mode with the picks' selectors and the targets. An empty answer asks again.
 */
export function besideAnswered(screen: Extract<Screen, { kind: 'restore-beside' }>, answer: string): Screen {
  const next = pendingBeside(screen);
  if (next?.selector === undefined || answer.trim() === '') return screen;
  const answers = { ...screen.answers, [next.component]: answer.trim() };
  const after = { ...screen, answers };
  if (pendingBeside(after) !== undefined) return after;
  const targets = screen.picked.besides.map(({ component, selector }) => [selector!.flag, [answers[component]]] as const);
  const selectors = { ...screen.picked.selectors, ...Object.fromEntries(targets) };
  return {
    kind: 'restore-mode',
    archive: screen.archive,
    components: Object.keys(screen.picked.picks),
    choice: { picked: screen.picked, selectors },
  };
}

/** The next picked component whose beside target is not typed yet. */
export function pendingBeside(screen: Extract<Screen, { kind: 'restore-beside' }>): PickedSelection['besides'][number] | undefined {
  return screen.picked.besides.find(({ component }) => screen.answers[component] === undefined);
}

/** In place: the restore's mode with the picks' selectors as they are. */
export function inPlace(archive: ArchiveListing, picked: PickedSelection): Screen {
  return { kind: 'restore-mode', archive, components: Object.keys(picked.picks), choice: { picked, selectors: picked.selectors } };
}
