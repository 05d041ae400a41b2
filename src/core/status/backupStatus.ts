import type { Keyring } from '../../age/header.js';
import type { ArchiveBytes } from '../../archive/location.js';
import type { Manifest } from '../../archive/manifest.js';
import { readManifest } from '../../archive/reader.js';
import type { HealthSettings } from '../../model/health.js';
import type { HistoryRecord } from '../../model/history.js';
import { listArchives, nameFacts, newestFirst, type ArchiveListing } from '../archiveListing.js';
import type { ArchiveShelf } from '../archiveShelf.js';
import { readHistory } from '../history/historyFile.js';
import { keyDrift, type KeyDrift } from '../keyFingerprints.js';
import { openedWith } from '../offsite.js';
import { backupSeconds, lastDrill, openAnomalies, recordsOf, type LastDrill, type OpenAnomalies } from './statusHistory.js';

/** Where backups are kept: the project's folder, and the off-site prefix of ORKESTRA_OFFSITE. */
export type Destination = 'local' | 'offsite';

/** The newest sound backup of a component in one destination. */
export interface NewestBackup {
  readonly archive: string;
  /** Its path or s3:// URL. */
  readonly location: string;
  readonly createdAt: string;
  readonly ageSeconds: number;
  /** The component's bytes in the archive (the manifest's index); undefined when its manifest is locked or lists none. */
  readonly bytes?: number;
  readonly archiveBytes: number;
  /** Seconds the backup spent on the component, from its history record. */
  readonly backupSeconds?: number;
  /** `record`: an encrypted archive no key given opens, sound on its record's word (size matches). */
  readonly vouchedBy: 'manifest' | 'record';
}

export interface ComponentStatus {
  readonly name: string;
  /** By destination; undefined where it has no sound backup of the component. */
  readonly newest: Partial<Record<Destination, NewestBackup>>;
}

export interface DestinationStatus {
  readonly destination: Destination;
  /** The folder or the s3:// prefix. */
  readonly where: string;
  /** Why it could not be listed. */
  readonly error?: string;
  /** Sound archives of the environment there. */
  readonly soundArchives: number;
}

export type KeyDriftStatus =
  | { readonly state: 'match' | 'drift'; readonly archive: string; readonly keys: readonly KeyDrift[] }
  | { readonly state: 'unknown'; readonly archive?: string; readonly reason: string };

export interface BackupStatus {
  readonly environment: string;
  readonly checkedAt: string;
  readonly maxAgeHours: number;
  readonly destinations: readonly DestinationStatus[];
  readonly components: readonly ComponentStatus[];
  readonly lastDrill?: LastDrill;
  readonly keyDrift: KeyDriftStatus;
  readonly openAnomalies: readonly OpenAnomalies[];
  /** History lines that are not records, skipped. */
  readonly unreadableHistoryLines: number;
  /** Why the backups are not healthy, one line each; empty when they are. */
  readonly reasons: readonly string[];
}

export interface StatusSources {
  readonly environment: string;
  /** The project's components, in its order: only these are reported. */
  readonly componentNames: readonly string[];
  readonly shelves: readonly {
    readonly destination: Destination;
    /** The folder or s3:// prefix, for messages before it is open. */
    readonly where: string;
    readonly shelf: () => Promise<ArchiveShelf>;
  }[];
  readonly historyFile: string;
  readonly health: HealthSettings;
  /** Docker/.env settings, for the live keys. */
  readonly setting: (key: string) => string | undefined;
  readonly keyring?: Keyring;
  readonly now?: Date;
}

/** A sound archive of the environment, its components known. */
interface SoundArchive {
  readonly destination: Destination;
  readonly shelf: ArchiveShelf;
  readonly listing: ArchiveListing;
  readonly components: readonly string[];
  readonly createdAt: string;
}

/**
 * The health of the environment's backups, from files alone: the archives' manifests (or their
 * records) in each destination, the history file, and docker/.env. Nothing is changed.
 */
export async function backupStatus(sources: StatusSources): Promise<BackupStatus> {
  const now = sources.now ?? new Date();
  const { records, unreadable } = await readHistory(sources.historyFile);
  const history = recordsOf(records, sources.environment);
  const destinations: DestinationStatus[] = [];
  const components = sources.componentNames.map((name): { name: string; newest: Partial<Record<Destination, NewestBackup>> } => ({
    name,
    newest: {},
  }));
  const opened: ArchiveShelf[] = [];
  let keyDriftStatus: KeyDriftStatus = { state: 'unknown', reason: 'there is no sound backup to compare with' };
  let keyDriftArchive: SoundArchive | undefined;
  try {
    for (const { destination, where, shelf: openShelf } of sources.shelves) {
      let shelf: ArchiveShelf | undefined;
      let sound: SoundArchive[];
      try {
        shelf = await openShelf();
        opened.push(shelf);
        sound = soundArchives(await listArchives(shelf, sources.keyring), sources.environment, destination, shelf);
      } catch (error) {
        destinations.push({ destination, where, error: (error as Error).message, soundArchives: 0 });
        continue;
      }
      destinations.push({ destination, where: shelf.where, soundArchives: sound.length });
      const manifests = new Map<string, Promise<Manifest | undefined>>();
      for (const component of components) {
        const newest = sound.find((archive) => archive.components.includes(component.name));
        if (!newest) continue;
        manifests.set(newest.listing.file, manifests.get(newest.listing.file) ?? manifestOf(newest, sources.keyring));
        const manifest = await manifests.get(newest.listing.file);
        component.newest[destination] = describe(newest, component.name, manifest, history, now);
        if (!keyDriftArchive || newestFirst(newest.listing, keyDriftArchive.listing) < 0) {
          keyDriftArchive = newest;
          keyDriftStatus = driftOf(newest, manifest, sources.setting);
        }
      }
    }
  } finally {
    for (const shelf of opened) shelf.close();
  }
  const reported = components.filter((component) => Object.keys(component.newest).length > 0);
  const status = {
    environment: sources.environment,
    checkedAt: now.toISOString(),
    maxAgeHours: sources.health.maxAgeHours,
    destinations,
    components: reported,
    lastDrill: lastDrill(history),
    keyDrift: keyDriftStatus,
    openAnomalies: openAnomalies(history, sources.environment),
    unreadableHistoryLines: unreadable,
  };
  return { ...status, reasons: unhealthyReasons(status) };
}

/** Newest first: the archives of the environment that are sound, with the components each holds. */
function soundArchives(listings: readonly ArchiveListing[], environment: string, destination: Destination, shelf: ArchiveShelf) {
  const sound: SoundArchive[] = [];
  for (const listing of listings) {
    if (listing.problem || listing.soundnessUnknown) continue;
    const facts = nameFacts(listing.name);
    if ((listing.environment ?? facts?.environment) !== environment) continue;
    const components = listing.locked ? listing.record?.components : listing.components;
    const createdAt = listing.locked ? facts?.createdAt.toISOString() : listing.createdAt;
    if (!components || createdAt === undefined || Number.isNaN(Date.parse(createdAt))) continue;
    sound.push({ destination, shelf, listing, components, createdAt });
  }
  return sound;
}

/** The archive's manifest again (the listing keeps only its summary); undefined when it is locked. */
async function manifestOf(archive: SoundArchive, keyring: Keyring | undefined): Promise<Manifest | undefined> {
  if (archive.listing.locked) return undefined;
  const { listing, shelf } = archive;
  const entry = { name: listing.name, reference: listing.file, bytes: listing.bytes, modifiedMs: listing.modifiedMs };
  // The listing opened it a moment ago with the same keys; one gone or changed since is reported without its figures.
  let location: ArchiveBytes;
  try {
    location = await openedWith(await shelf.open(entry), keyring);
  } catch {
    return undefined;
  }
  try {
    return (await readManifest(location)).manifest;
  } catch {
    return undefined;
  } finally {
    await location.close();
  }
}

function describe(
  archive: SoundArchive,
  component: string,
  manifest: Manifest | undefined,
  history: readonly HistoryRecord[],
  now: Date,
): NewestBackup {
  const { listing } = archive;
  const seconds = backupSeconds(history, { name: listing.name, backupId: manifest?.backupId });
  return {
    archive: listing.name,
    location: listing.file,
    createdAt: archive.createdAt,
    ageSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(archive.createdAt)) / 1000)),
    bytes: manifest && componentBytes(manifest, component),
    archiveBytes: listing.bytes,
    backupSeconds: seconds[component],
    vouchedBy: listing.locked ? 'record' : 'manifest',
  };
}

/** Content bytes of a component's files: the index's summary, or the file list of a v1 manifest. */
function componentBytes(manifest: Manifest, component: string): number | undefined {
  const indexed = manifest.index?.[component];
  if (indexed) return indexed.bytes;
  if (!manifest.files) return undefined;
  return manifest.files.filter((file) => file.path.startsWith(`${component}/`)).reduce((sum, file) => sum + file.size, 0);
}

function driftOf(archive: SoundArchive, manifest: Manifest | undefined, setting: (key: string) => string | undefined): KeyDriftStatus {
  const name = archive.listing.name;
  if (!manifest) return { state: 'unknown', archive: name, reason: `${name} is encrypted and no key given opens it` };
  if (!manifest.keyFingerprints) return { state: 'unknown', archive: name, reason: `${name} records no key fingerprints` };
  const keys = keyDrift(manifest, setting);
  return { state: keys.length > 0 ? 'drift' : 'match', archive: name, keys };
}

/** Why the backups are not healthy: no sound backup, one too old, a destination unreadable, the last drill failed, an anomaly open. */
function unhealthyReasons(status: Omit<BackupStatus, 'reasons'>): string[] {
  const reasons: string[] = [];
  const maxAgeSeconds = status.maxAgeHours * 3600;
  for (const destination of status.destinations) {
    const where = destination.destination === 'offsite' ? `off-site ${destination.where}` : destination.where;
    if (destination.error !== undefined) reasons.push(`${where} cannot be read: ${destination.error}`);
    else if (destination.soundArchives === 0) reasons.push(`no sound backup of environment ${status.environment} in ${where}`);
  }
  for (const component of status.components) {
    for (const [destination, newest] of Object.entries(component.newest)) {
      if (newest.ageSeconds <= maxAgeSeconds) continue;
      reasons.push(
        `${component.name}: the newest sound backup ${destination === 'offsite' ? 'off-site' : 'in the local folder'} (${newest.archive}) ` +
          `is ${hours(newest.ageSeconds)} h old, more than health.maxAgeHours (${status.maxAgeHours})`,
      );
    }
  }
  const drill = status.lastDrill;
  if (drill && !drill.ok) reasons.push(`the last drill${drill.archive ? ` (of ${fileName(drill.archive)})` : ''}, at ${drill.at}, failed`);
  for (const open of status.openAnomalies) {
    for (const anomaly of open.anomalies) reasons.push(`open anomaly in ${fileName(open.archive)}: ${anomaly.message}`);
  }
  return reasons;
}

function hours(seconds: number): string {
  return (seconds / 3600).toFixed(1);
}

/** The file name of a path or s3:// URL: what a reason names, on one line. */
function fileName(location: string): string {
  return location.slice(location.lastIndexOf('/') + 1);
}
