import { dirname, resolve } from 'node:path';
import { withoutFinalPeriod } from '../../base/format.js';
import type { HealthSettings } from '../../model/health.js';
import type { Anomaly } from '../../model/history.js';
import type { ArchiveShape } from '../../model/shape.js';
import { isOffsiteUrl, parseOffsiteFolder } from '../../s3/offsite/offsiteUrl.js';
import { settingsKeyring } from '../archiveKeys.js';
import { listArchives } from '../archiveListing.js';
import { localShelf, offsiteShelf, type ArchiveShelf } from '../archiveShelf.js';
import type { WrittenArchive } from '../backup/plan.js';
import { historyPath, readHistory } from '../history/historyFile.js';
import { openOffsiteStore, sessionOffsite } from '../offsite.js';
import type { Session } from '../session.js';
import { findAnomalies } from './anomalies.js';
import {
  chooseBaseline,
  historyVerdicts,
  listedCandidates,
  sameComponents,
  type BaselineCandidate,
  type BaselineQuery,
} from './baseline.js';

export interface BaselineComparison {
  readonly anomalies: Anomaly[];
  /** The archive compared with; undefined when there was none to compare with. */
  readonly baseline?: string;
}

/**
 * Compares a backup just written with its baseline: the newest good backup of the deployment
 * in the history, or, when the history holds no backup of it, the newest sound archive of the
 * destination folder. A failure to find a baseline is said and leaves the backup as it is: a
 * check never costs a backup that succeeded.
 */
export async function compareWithBaseline(
  session: Session,
  written: WrittenArchive & { secrets?: WrittenArchive },
  settings: HealthSettings,
): Promise<BaselineComparison> {
  const { manifest } = written;
  const query: BaselineQuery = {
    environment: manifest.environment,
    backupId: manifest.backupId,
    components: [...manifest.components, ...(written.secrets?.manifest.components ?? [])],
    split: written.secrets !== undefined,
  };
  try {
    const baseline = await findBaseline(session, written.archivePath, query);
    if (!baseline) return { anomalies: [] };
    const current = { shape: archiveShape(written), bytes: written.archiveBytes };
    const anomalies = findAnomalies(current, baseline, settings, { sameComponents: sameComponents(baseline, query) });
    return { anomalies, baseline: baseline.location };
  } catch (error) {
    session.onEvent({ type: 'step', message: `anomaly checks skipped: ${withoutFinalPeriod((error as Error).message)}` });
    return { anomalies: [] };
  }
}

async function findBaseline(session: Session, archivePath: string, query: BaselineQuery): Promise<BaselineCandidate | undefined> {
  const { records } = await readHistory(historyPath(session.project.backupsDir));
  const verdicts = historyVerdicts(records, query.environment);
  if (verdicts.hasBackups) return chooseBaseline(verdicts.good, query);
  // No backup in the history: the archives of the destination, and what `accept` named.
  const shelf = destinationShelf(session, archivePath);
  if (!shelf) return chooseBaseline(verdicts.good, query);
  try {
    const listings = await listArchives(
      shelf,
      settingsKeyring((key) => session.project.setting(key)),
    );
    return chooseBaseline([...verdicts.good, ...listedCandidates(listings, query, verdicts.anomalous)], query);
  } finally {
    shelf.close();
  }
}

/** The folder (or s3:// prefix) the archive went into; none for standard output. */
function destinationShelf(session: Session, archivePath: string): ArchiveShelf | undefined {
  if (isOffsiteUrl(archivePath)) {
    const folder = parseOffsiteFolder(archivePath.slice(0, archivePath.lastIndexOf('/') + 1));
    return offsiteShelf(openOffsiteStore(sessionOffsite(session)), folder);
  }
  return archivePath === '-' ? undefined : localShelf(dirname(resolve(archivePath)));
}

/** Both halves of a split backup as one shape: only components both sides hold are compared. */
export function archiveShape(written: WrittenArchive & { secrets?: WrittenArchive }): ArchiveShape | undefined {
  const data = written.manifest.shape;
  const secrets = written.secrets?.manifest.shape;
  if (!data || !secrets) return data ?? secrets;
  return { components: { ...data.components, ...secrets.components }, keyNames: data.keyNames ?? secrets.keyNames };
}
