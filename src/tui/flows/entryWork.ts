import { useEffect } from 'react';
import type { OverwritePolicy } from '../../core/component.js';
import type { RunEvent } from '../../model/events.js';
import type { TuiBackend } from '../backend.js';
import type { CancellableWork } from '../hooks.js';
import type { Screen } from '../screenState.js';

/**
 * The work a screen starts when it is entered: the component choices of the backup's first
 * screen, the archive list of the restore's and the drill's, the status, and the restore itself.
 */
export function useEntryWork(
  screen: Screen,
  backend: TuiBackend,
  work: CancellableWork,
  overwrite: OverwritePolicy,
  onEvent: (event: RunEvent) => void,
): void {
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
    } else if (screen.kind === 'status' && !screen.view) {
      void work.run(
        (signal) => backend.status(signal),
        (view) => ({ type: 'show', screen: { kind: 'status', view } }),
        { kind: 'start' },
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
}
