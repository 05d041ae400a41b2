import { settingsKeyring } from '../core/archiveKeys.js';
import { localShelf, offsiteShelf } from '../core/archiveShelf.js';
import { historyPath } from '../core/history/historyFile.js';
import { openOffsiteStore } from '../core/offsite.js';
import type { Services } from '../core/services.js';
import { backupStatus, type BackupStatus, type StatusSources } from '../core/status/backupStatus.js';
import type { EventListener } from '../model/events.js';
import type { Project } from '../model/project.js';
import { offsiteUrlText, parseOffsiteFolder } from '../s3/offsite/offsiteUrl.js';
import { loadProjectConfig } from './projectConfig.js';
import { createServices, loadComponents } from './session.js';

export interface StatusContext {
  readonly onEvent: EventListener;
  readonly signal: AbortSignal;
  /** The outside world; the interactive interface passes one whose off-site requests answer at once. */
  readonly services?: Services;
}

/**
 * The status of the project's backups, for the command line and the interactive interface alike:
 * ./backups/, ORKESTRA_OFFSITE when set, the history and the health settings of orkestra-backup.json.
 * Encrypted archives open with the identities of the settings only: a status never asks.
 */
export async function projectBackupStatus(project: Project, context: StatusContext): Promise<BackupStatus> {
  const [config, components] = await Promise.all([loadProjectConfig(project.dir), loadComponents(project)]);
  const setting = (key: string) => project.setting(key);
  const offsite = setting('ORKESTRA_OFFSITE');
  // A bad ORKESTRA_OFFSITE is bad input: refused before anything is read.
  const offsiteFolder = offsite === undefined ? undefined : parseOffsiteFolder(offsite);
  const shelves: StatusSources['shelves'][number][] = [
    { destination: 'local', where: project.backupsDir, shelf: () => Promise.resolve(localShelf(project.backupsDir)) },
  ];
  if (offsiteFolder !== undefined) {
    shelves.push({
      destination: 'offsite',
      where: offsiteUrlText(offsiteFolder),
      shelf: async () => {
        const store = openOffsiteStore({ ...context, services: context.services ?? createServices(), setting });
        try {
          await store.checkBucket(offsiteFolder.bucket);
        } catch (error) {
          store.destroy();
          throw error;
        }
        return offsiteShelf(store, offsiteFolder);
      },
    });
  }
  return backupStatus({
    environment: project.environment,
    componentNames: components.map((component) => component.name),
    shelves,
    historyFile: historyPath(project.backupsDir),
    health: config.health,
    setting,
    keyring: settingsKeyring(setting),
  });
}
