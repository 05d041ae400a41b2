import type { TuiBackend } from '../backend.js';
import { PickerScreen } from '../screens/PickerScreen.js';
import { BesideScreen, RestoreHowScreen, RestorePlaceScreen } from '../screens/PickFlowScreens.js';
import { besideAnswered, inPlace, type Screen } from '../screenState.js';
import type { FlowScreen } from './flow.js';

const PICK_SCREENS = ['restore-how', 'restore-browse', 'restore-place', 'restore-beside'] as const;
type PickFlowScreen = Extract<Screen, { kind: (typeof PICK_SCREENS)[number] }>;

export function isPickScreen(screen: FlowScreen<'restore'>): screen is PickFlowScreen {
  return (PICK_SCREENS as readonly string[]).includes(screen.kind);
}

/**
 * Restore everything, or pick: the tree of the archive's items, then in place or beside (each
 * picked component's target typed), then the restore's mode with the picks' selectors.
 */
export function pickScreen(screen: PickFlowScreen, backend: TuiBackend, show: (next: Screen) => void, leave: () => void) {
  switch (screen.kind) {
    case 'restore-how':
      return (
        <RestoreHowScreen
          name={screen.archive.name}
          onChoose={(pick) =>
            show(pick ? { kind: 'restore-browse', archive: screen.archive } : { kind: 'restore-components', archive: screen.archive })
          }
        />
      );
    case 'restore-browse':
      return (
        <PickerScreen
          archive={screen.archive}
          backend={backend}
          picks={screen.picks}
          onContinue={(picked) => show({ kind: 'restore-place', archive: screen.archive, picked })}
          onBack={() => show({ kind: 'restore-how', archive: screen.archive })}
          onQuit={leave}
        />
      );
    case 'restore-place':
      return (
        <RestorePlaceScreen
          picked={screen.picked}
          onChoose={(beside) =>
            show(
              beside
                ? { kind: 'restore-beside', archive: screen.archive, picked: screen.picked, answers: {} }
                : inPlace(screen.archive, screen.picked),
            )
          }
        />
      );
    case 'restore-beside':
      return <BesideScreen screen={screen} onAnswer={(answer) => show(besideAnswered(screen, answer))} />;
  }
}
