import type { OverwritePolicy } from '../../src/core/component.js';
import type { EventListener } from '../../src/model/events.js';
import type { RestoreOutcome } from '../../src/core/restore.js';
import { COMPONENTS } from '../../src/components/index.js';
import { picksAsSelectors, type PicksAsSelectors } from '../../src/core/browse.js';
import type { Manifest } from '../../src/archive/manifest.js';
import type {
  ArchiveListing,
  BrowsableComponent,
  BrowsePage,
  BrowseRequest,
  PicksByComponent,
  SelectorValues,
  BackupResultView,
  ComponentChoice,
  DrillReport,
  RestorePreview,
  StatusView,
  TuiBackend,
} from '../../src/tui/backend.js';

export interface Call {
  method: string;
  args: unknown[];
}

/**
 * A TUI backend that records every call and lets a test decide when and how each one answers,
 * so a test can assert which core call follows which keys.
 */
export class FakeBackend implements TuiBackend {
  readonly projectDir = '/srv/orkestra';
  readonly calls: Call[] = [];
  choices: ComponentChoice[] = [
    { name: 'mongodb', title: 'MongoDB', available: true },
    { name: 'redis', title: 'Redis', available: false, reason: 'container orkestra-redis is exited' },
    {
      name: 'rustfs',
      title: 'RustFS object store',
      available: false,
      reason: 'cannot reach the Docker engine at unix:///var/run/docker.sock (ENOENT)',
    },
    { name: 'secrets', title: 'Secrets (docker/.env, docker/keys/)', available: true },
  ];
  archives: ArchiveListing[] = [];
  backupImpl: (onEvent: EventListener, signal: AbortSignal) => Promise<BackupResultView> = async () => ({
    archivePath: '/srv/orkestra/backups/orkestra-backup-local-20261122-120000.tar.gz',
    archiveBytes: 12_345_678,
    elapsedMs: 4_200,
    components: ['mongodb', 'secrets'],
    skipped: [],
  });
  previewImpl: (onEvent: EventListener) => Promise<RestorePreview> = async () => {
    throw new Error('no preview configured');
  };
  restoreImpl: (overwrite: OverwritePolicy, onEvent: EventListener) => Promise<RestoreOutcome> = async () => ({
    restored: [],
    notRestored: [],
  });
  drillImpl: (onEvent: EventListener, signal: AbortSignal) => Promise<DrillReport> = async () => {
    throw new Error('no drill configured');
  };
  statusImpl: () => Promise<StatusView> = async () => {
    throw new Error('no status configured');
  };
  lastSignal?: AbortSignal;
  browsableImpl: () => Promise<BrowsableComponent[]> = async () => [];
  browseImpl: (request: BrowseRequest, signal: AbortSignal) => Promise<BrowsePage> = async () => ({
    groups: [],
    items: [],
    more: false,
    read: 0,
  });
  /** By default the components' own rules, as the real backend applies them. */
  picksImpl: (picks: PicksByComponent) => Promise<PicksAsSelectors> = async (picks) =>
    picksAsSelectors({ components: Object.keys(picks), details: {} } as unknown as Manifest, picks, {
      components: COMPONENTS,
      setting: () => undefined,
    });

  async componentChoices() {
    this.calls.push({ method: 'componentChoices', args: [] });
    return this.choices;
  }

  backup(components: string[], onEvent: EventListener, signal: AbortSignal) {
    this.calls.push({ method: 'backup', args: [components] });
    this.lastSignal = signal;
    return this.backupImpl(onEvent, signal);
  }

  async listArchives() {
    this.calls.push({ method: 'listArchives', args: [] });
    return this.archives;
  }

  previewRestore(file: string, components: string[] | undefined, onEvent: EventListener, _signal: AbortSignal, selectors?: SelectorValues) {
    this.calls.push({ method: 'previewRestore', args: selectors === undefined ? [file, components] : [file, components, selectors] });
    return this.previewImpl(onEvent);
  }

  restore(_preview: RestorePreview, overwrite: OverwritePolicy, onEvent: EventListener) {
    this.calls.push({ method: 'restore', args: [] });
    return this.restoreImpl(overwrite, onEvent);
  }

  drill(file: string, onEvent: EventListener, signal: AbortSignal) {
    this.calls.push({ method: 'drill', args: [file] });
    this.lastSignal = signal;
    return this.drillImpl(onEvent, signal);
  }

  status(signal: AbortSignal) {
    this.calls.push({ method: 'status', args: [] });
    this.lastSignal = signal;
    return this.statusImpl();
  }

  browsable(file: string) {
    this.calls.push({ method: 'browsable', args: [file] });
    return this.browsableImpl();
  }

  browse(file: string, request: BrowseRequest, signal: AbortSignal) {
    this.calls.push({ method: 'browse', args: [file, request] });
    this.lastSignal = signal;
    return this.browseImpl(request, signal);
  }

  picksAsSelectors(file: string, picks: PicksByComponent) {
    this.calls.push({ method: 'picksAsSelectors', args: [file, picks] });
    return this.picksImpl(picks);
  }

  methods(): string[] {
    return this.calls.map((call) => call.method);
  }
}
