import { randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { MANIFEST_SCHEMA, type Manifest } from '../archive/manifest.js';
import { checkArchive, readManifest } from '../archive/reader.js';
import { componentPath } from '../archive/paths.js';
import { ArchiveWriter, type UnindexedManifest } from '../archive/writer.js';
import { checkCompressionName } from '../archive/archiveNames.js';
import { archiveExtension, resolveCompression, type Compression, type CompressionChoice } from '../archive/compression.js';
import type { ArchiveLocation } from '../archive/location.js';
import { PreconditionError, RuntimeError, UsageError } from '../base/errors.js';
import { withoutFinalPeriod } from '../base/format.js';
import { isOffsiteUrl, parseOffsiteUrl } from '../s3/offsite/offsiteUrl.js';
import { backupSealing, SECRETS_SEALING } from './archiveKeys.js';
import {
  checkArchiveExtension,
  checkSplit,
  openDestination,
  planSecretsArchive,
  refusePlaintextSecrets,
  resolveTarget,
  SECRETS,
  targetText,
  type ArchivePlacement,
} from './backupTargets.js';
import type { Availability } from '../model/availability.js';
import type { Component, ComponentSink } from './component.js';
import { fingerprintKeys } from './keyFingerprints.js';
import { openOffsiteStore, sessionOffsite } from './offsite.js';
import { ComponentProgress } from '../model/progress.js';
import type { Session } from './session.js';
import { isoSeconds } from './timestamps.js';
import { TOOL_NAME, TOOL_VERSION } from './version.js';

export interface ComponentStatus {
  component: Component;
  availability: Availability;
}

export interface BackupPlan extends ArchivePlacement {
  /** What will be captured, in canonical order. */
  readonly components: readonly Component[];
  /** Unavailable components left out of a `backup all`, with the reason. */
  readonly skipped: readonly { component: string; reason: string }[];
  /** How each captured component is reached ("container orkestra-redis is running", "Redis at … (REDIS_URL)"). */
  readonly transports: readonly { component: string; detail: string }[];
  /** --split-secrets: `secrets` goes into an archive of its own, with its own destination and encryption. */
  readonly secrets?: ArchivePlacement;
  /** gzip (`.tar.gz`) or zstd (`.tar.zst`), and the level; both archives of a split backup share it. */
  readonly compression: Compression;
}

export interface WrittenArchive {
  readonly archivePath: string;
  readonly archiveBytes: number;
  readonly manifest: Manifest;
}

export interface BackupOutcome extends WrittenArchive {
  readonly skipped: BackupPlan['skipped'];
  readonly elapsedMs: number;
  /** The secrets archive of a split backup. */
  readonly secrets?: WrittenArchive;
}

export interface BackupOptions {
  /** Where `-o -` writes. */
  standardOutput?: Writable;
  /** --split-secrets (output undefined: beside the data archive) or --secrets-output. */
  splitSecrets?: { output?: string };
  /** --compression (default gzip at ORKESTRA_GZIP_LEVEL). */
  compression?: CompressionChoice;
}

/**
 * Every component's availability, asked in parallel; a failure to ask is a reason, not a crash —
 * except bad input (a malformed MONGO_URI), which stops the run with exit 2.
 */
export async function componentStatuses(session: Session): Promise<ComponentStatus[]> {
  return Promise.all(
    session.components.map(async (component) => {
      try {
        return { component, availability: await component.availability(session) };
      } catch (error) {
        if (error instanceof UsageError) throw error;
        return { component, availability: { available: false, reason: reasonOf(error) } as Availability };
      }
    }),
  );
}

/**
 * Decides what a backup will capture and where, before anything is written. A component named
 * explicitly must be available; with `all`, unavailable ones are skipped and reported.
 */
export async function planBackup(
  session: Session,
  selection: { all: true } | { all: false; components: readonly Component[] },
  output?: string,
  options: BackupOptions = {},
): Promise<BackupPlan> {
  // A split that cannot be is bad input: said before any component is asked about.
  if (options.splitSecrets && !selection.all) checkSplit(selection.components, output, options.splitSecrets.output);
  const statuses = await componentStatuses(session);
  const wanted = selection.all ? statuses : statuses.filter(({ component }) => selection.components.includes(component));
  const missing = wanted.filter(({ availability }) => !availability.available);
  if (!selection.all && missing.length > 0) {
    const reasons = missing.map(({ component, availability }) => `${component.name} (${reasonOf(availability)})`);
    throw new PreconditionError(`cannot back up ${reasons.join('; ')}.`, {
      hint: 'Nothing was written. Start what is stopped (or create what is missing), or leave it out of --components.',
    });
  }
  const components = wanted.filter(({ availability }) => availability.available).map(({ component }) => component);
  if (components.length === 0) {
    throw new PreconditionError('nothing to back up: no component is available on this host.', {
      hint: missing.map(({ component, availability }) => `${component.name}: ${reasonOf(availability)}.`).join(' '),
    });
  }
  const skipped = missing.map(({ component, availability }) => ({ component: component.name, reason: reasonOf(availability) }));
  const setting = (key: string) => session.project.setting(key);
  const sealing = await backupSealing(setting);
  const split = options.splitSecrets;
  // With "all", what is split is known only now (an explicit list was checked above).
  if (split && selection.all) checkSplit(components, output, split.output);
  checkArchiveExtension(output, sealing !== undefined);
  const compression = resolveCompression(options.compression, session.services.tuning.gzipLevel);
  const extension = archiveExtension(compression.codec);
  checkCompressionName(output, compression.codec);
  checkCompressionName(split?.output, compression.codec, '--secrets-output');
  const target = await resolveTarget(session, output, options.standardOutput, sealing !== undefined, extension);
  const secrets =
    split &&
    (await planSecretsArchive(session, target, split.output, (await backupSealing(setting, SECRETS_SEALING)) ?? sealing, extension));
  const holdsSecrets = !split && components.some((component) => component.name === SECRETS);
  if (holdsSecrets) refusePlaintextSecrets(session, target, sealing, '--output');
  if (secrets) refusePlaintextSecrets(session, secrets.target, secrets.sealing, '--secrets-output');
  const transports = wanted.flatMap(({ component, availability }) =>
    availability.available && availability.detail ? [{ component: component.name, detail: availability.detail }] : [],
  );
  return { components, skipped, transports, target, outputPath: targetText(target), sealing, secrets, compression };
}

/**
 * Writes the plan's archive, or with --split-secrets its two archives under one backupId: the
 * secrets archive first (small), then the data archive; when the data archive fails the secrets
 * archive is removed again, so a split backup leaves both archives or neither.
 */
export async function runBackup(session: Session, plan: BackupPlan): Promise<BackupOutcome> {
  const started = new Date();
  const run = { started, backupId: randomUUID(), compression: plan.compression };
  if (!plan.secrets) {
    const written = await writeArchive(session, plan.components, plan, run);
    return { ...written, skipped: plan.skipped, elapsedMs: Date.now() - started.getTime() };
  }
  const secretsComponents = plan.components.filter((component) => component.name === SECRETS);
  const dataComponents = plan.components.filter((component) => component.name !== SECRETS);
  const secrets = await writeArchive(session, secretsComponents, plan.secrets, { ...run, split: 'secrets' });
  try {
    const data = await writeArchive(session, dataComponents, plan, { ...run, split: 'data' });
    return { ...data, skipped: plan.skipped, elapsedMs: Date.now() - started.getTime(), secrets };
  } catch (error) {
    await removeArchive(session, secrets.archivePath).catch(() => undefined);
    throw error;
  }
}

async function removeArchive(session: Session, path: string): Promise<void> {
  if (!isOffsiteUrl(path)) return unlink(path);
  const store = openOffsiteStore(sessionOffsite(session));
  try {
    await store.remove(parseOffsiteUrl(path));
  } finally {
    store.destroy();
  }
}

/** One backup run: its start and id, shared by both archives of a split backup. */
interface RunIdentity {
  readonly started: Date;
  readonly backupId: string;
  readonly split?: 'data' | 'secrets';
  readonly compression: Compression;
}

async function writeArchive(
  session: Session,
  components: readonly Component[],
  { target, outputPath, sealing }: ArchivePlacement,
  run: RunIdentity,
): Promise<WrittenArchive> {
  const { tuning } = session.services;
  if (sealing && 'passphrase' in sealing) session.onEvent({ type: 'step', message: 'deriving the key from the passphrase (scrypt)' });
  const opened = await openDestination(session, target, sealing).catch((error: unknown) => {
    throw explainWriteFailure(error, outputPath);
  });
  const writer = new ArchiveWriter(opened.destination, {
    compression: run.compression,
    compressionThreads: tuning.gzipThreads,
    storeIncompressible: tuning.storeCompressed,
    huffmanOnly: tuning.huffmanOnly,
  });
  try {
    const details: Record<string, unknown> = {};
    const captured: string[] = [];
    for (const component of components) {
      session.signal.throwIfAborted();
      details[component.name] = await backupComponent(session, component, writer);
      captured.push(component.name);
    }
    const unindexed: UnindexedManifest = {
      schema: MANIFEST_SCHEMA,
      backupId: run.backupId,
      ...(run.split ? { split: run.split } : {}),
      createdAt: isoSeconds(run.started),
      environment: session.project.environment,
      host: hostname(),
      components: captured,
      tool: { name: TOOL_NAME, version: TOOL_VERSION },
      details,
      keyFingerprints: fingerprintKeys((key) => session.project.setting(key)),
    };
    session.signal.throwIfAborted();
    session.onEvent({ type: 'step', message: 'reading the archive back to check every file' });
    const { path: archivePath, bytes: archiveBytes, manifest } = await writer.commit(unindexed, readBack);
    return { archivePath, archiveBytes, manifest };
  } catch (error) {
    await writer.discard();
    throw explainWriteFailure(error, outputPath);
  } finally {
    opened.close();
  }
}

/** A full disk or a read-only folder is the operator's to fix: say so in their words. */
function explainWriteFailure(error: unknown, outputPath: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  const folder = dirname(outputPath);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new RuntimeError(`no space left on the device holding ${folder} while writing the archive.`, {
      hint: 'The partial file was removed. Free some space or choose another --output.',
    });
  }
  if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
    return new RuntimeError(`cannot write into ${folder} (${code}).`, { hint: 'Choose another --output.' });
  }
  return error;
}

async function backupComponent(session: Session, component: Component, writer: ArchiveWriter): Promise<unknown> {
  const progress = new ComponentProgress(component.name, 'backup', session.onEvent);
  const onBytes = (bytes: number) => progress.advance(bytes);
  const sink: ComponentSink = {
    addFile: async (path, size, content, options) => {
      await writer.addFile(componentPath(component.name, path), size, content, { ...options, onBytes });
    },
    addStream: async (path, content, options) => {
      await writer.addStream(componentPath(component.name, path), content, { ...options, onBytes });
    },
    addText: async (path, text) => {
      await writer.addText(componentPath(component.name, path), text);
    },
  };
  try {
    const result = await component.backup({ ...session, sink, progress });
    progress.done(result.summary);
    return result.details ?? {};
  } catch (error) {
    progress.failed(reasonOf(error));
    throw error;
  }
}

/** A backup is not done until the archive it wrote has been read back whole. */
async function readBack(path: ArchiveLocation, manifest: Manifest): Promise<void> {
  const { manifest: written } = await readManifest(path);
  if (JSON.stringify(written.index) !== JSON.stringify(manifest.index)) {
    throw new RuntimeError('the archive read back does not hold the manifest that was written.');
  }
  const { problems } = await checkArchive(path, written);
  if (problems.length > 0) {
    throw new RuntimeError(`the archive failed its read-back check: ${problems[0]}.`, {
      hint: 'Nothing was kept; check the disk and run the backup again.',
    });
  }
}

function reasonOf(source: unknown): string {
  if (source && typeof source === 'object' && 'reason' in source) return String((source as { reason: string }).reason);
  return source instanceof Error ? withoutFinalPeriod(source.message) : String(source);
}
