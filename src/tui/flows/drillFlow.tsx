import { drillLines } from '../../core/drill/drillReport.js';
import { ArchivePickScreen } from '../screens/ArchivePickScreen.js';
import { ReportScreen } from '../screens/ReportScreen.js';
import { WorkingScreen } from '../screens/WorkingScreen.js';
import type { Flow, FlowScreen } from './flow.js';

/** Drill: pick an archive, watch it restored into throwaway containers and checked, read the report. */
export function drillScreen(screen: FlowScreen<'drill'>, { backend, work, progress, onEvent, show, leave }: Flow) {
  switch (screen.kind) {
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
  }
}
