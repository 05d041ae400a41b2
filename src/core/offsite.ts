import type { ArchiveBytes } from '../archive/location.js';
import { PinnedArchive } from '../archive/pinned.js';
import { unsealed } from '../archive/decryptedArchive.js';
import type { Keyring } from '../age/header.js';
import { assertReadableFile } from '../archive/reader.js';
import { UsageError } from '../base/errors.js';
import { offsiteSettings, type OffsiteStore } from '../s3/offsite/offsite.js';
import { isOffsiteUrl, parseOffsiteFolder, parseOffsiteUrl } from '../s3/offsite/offsiteUrl.js';
import { RemoteArchive } from '../s3/offsite/remoteArchive.js';
import { withRetries } from '../s3/client/retry.js';
import type { EventListener } from '../model/events.js';
import { offsiteShelf, type ArchiveShelf } from './archiveShelf.js';
import type { Services } from './services.js';
import type { Session } from './session.js';

/** What opening the off-site store needs: settings (flags, docker/.env, environment), where to report retries, when to stop. */
export interface OffsiteContext {
  readonly services: Services;
  readonly setting: (key: string) => string | undefined;
  readonly onEvent: EventListener;
  readonly signal: AbortSignal;
}

/** The off-site context of a session: its settings, events and abort signal. */
export function sessionOffsite(session: Session): OffsiteContext {
  return { services: session.services, setting: (key) => session.project.setting(key), onEvent: session.onEvent, signal: session.signal };
}

/** The off-site store of these settings, its requests retried through outages (ORKESTRA_S3_RETRY_PAUSES). */
export function openOffsiteStore(context: OffsiteContext): OffsiteStore {
  const { services, signal, onEvent } = context;
  const settings = offsiteSettings(context.setting, services.tuning.offsiteTimeoutMs);
  return services.offsiteStore(settings, (work) =>
    withRetries(work, {
      signal,
      backoffMs: services.tuning.offsiteRetryPausesMs,
      onRetry: (message) => onEvent({ type: 'step', message: `off-site store: ${message}` }),
    }),
  );
}

/**
 * An archive named on the command line, opened for reading: a local file (pinned by its
 * descriptor) or `s3://bucket/key` (pinned by its ETag). Standard input cannot be read twice,
 * so it is refused here; verify and inspect spool it first.
 */
export async function openArchiveReference(reference: string, openStore: () => OffsiteStore, keyring?: Keyring): Promise<ArchiveBytes> {
  return openedWith(await openArchiveBytes(reference, openStore), keyring);
}

/** The archive inside when the bytes are an age file, opened with the keyring; the bytes are closed when it cannot be. */
export async function openedWith(bytes: ArchiveBytes, keyring: Keyring | undefined): Promise<ArchiveBytes> {
  try {
    return await unsealed(bytes, keyring);
  } catch (error) {
    await bytes.close();
    throw error;
  }
}

async function openArchiveBytes(reference: string, openStore: () => OffsiteStore): Promise<ArchiveBytes> {
  if (reference === '-') {
    throw new UsageError(
      'restore cannot read the archive from standard input: it checks the whole archive before the first change, then reads it again.',
      {
        hint: 'Pass a file or an s3:// URL (the archive is read from S3 twice, never copied to disk).',
      },
    );
  }
  if (isOffsiteUrl(reference)) {
    const url = parseOffsiteUrl(reference);
    if (url.folder)
      throw new UsageError(`${reference} is a folder, not an archive.`, {
        hint: `Run "orkestra-backup list ${reference}" to see its archives.`,
      });
    const store = openStore();
    try {
      return await RemoteArchive.open(store, url, () => store.destroy());
    } catch (error) {
      store.destroy();
      throw error;
    }
  }
  await assertReadableFile(reference);
  return PinnedArchive.open(reference);
}

/**
 * The off-site folder named by ORKESTRA_OFFSITE (`s3://bucket/prefix/`), for the interactive
 * restore picker to list beside ./backups/; undefined when none is configured.
 */
export function configuredOffsiteShelf(context: OffsiteContext): ArchiveShelf | undefined {
  const configured = context.setting('ORKESTRA_OFFSITE');
  if (configured === undefined) return undefined;
  return offsiteShelf(openOffsiteStore(context), parseOffsiteFolder(configured));
}
