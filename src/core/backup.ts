import { withoutFinalPeriod } from '../base/format.js';
import { randomUUID } from 'node:crypto';
import { stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { MANIFEST_SCHEMA, type Manifest } from '../archive/manifest.js';
import { checkArchive, readManifest } from '../archive/reader.js';
import { componentPath } from '../archive/paths.js';
import { ArchiveWriter, type UnindexedManifest } from '../archive/writer.js';
import type { ArchiveDestination } from '../archive/destination.js';
import { FileDestination } from '../archive/fileDestination.js';
import { numberedArchiveName, secretsArchiveName } from '../archive/archiveNames.js';
import { EncryptingDestination } from '../archive/encryptingDestination.js';
import type { Sealing } from '../age/header.js';
import { backupSealing, SECRETS_SEALING } from './archiveKeys.js';
import type { ArchiveLocation } from '../archive/location.js';
import { StreamDestination } from '../archive/streamDestination.js';
import { OffsiteDestination } from '../s3/offsiteDestination.js';
import { isOffsiteUrl, offsiteChild, offsiteUrlText, parseOffsiteUrl, type OffsiteUrl } from '../s3/offsiteUrl.js';
import type { Writable } from 'node:stream';
import { openOffsiteStore, sessionOffsite } from './offsite.js';
import { fingerprintKeys } from './keyDrift.js';
import type { Availability, Component, ComponentSink } from './component.js';
import { PreconditionError, RuntimeError, UsageError } from '../base/errors.js';
import { ComponentProgress } from './progress.js';
import type { Session } from './session.js';
import { isoSeconds, utcStamp } from './timestamps.js';
import { TOOL_NAME, TOOL_VERSION } from './version.js';

export interface ComponentStatus {
  component: Component;
  availability: Availability;
}

/** Where a backup goes: a local file, an object in the off-site bucket, or a stream (standard output). */
export type ArchiveTarget =
  | {
      readonly kind: 'file';
      readonly path: string;
      /** The default name, which may take a `-2` suffix if taken meanwhile. */ readonly defaultName: boolean;
    }
  | { readonly kind: 's3'; readonly url: OffsiteUrl }
  | { readonly kind: 'stream'; readonly output: Writable };

export interface BackupPlan extends ArchivePlacement {
  /** What will be captured, in canonical order. */
  readonly components: readonly Component[];
  /** Unavailable components left out of a `backup all`, with the reason. */
  readonly skipped: readonly { component: string; reason: string }[];
  /** How each captured component is reached ("container orkestra-redis is running", "Redis at … (REDIS_URL)"). */
  readonly transports: readonly { component: string; detail: string }[];
  /** --split-secrets: `secrets` goes into an archive of its own, with its own destination and encryption. */
  readonly secrets?: ArchivePlacement;
}

/** Where one archive goes and how it is encrypted: the plan's own, or its secrets archive's. */
export interface ArchivePlacement {
  readonly target: ArchiveTarget;
  /** The target as a path, an s3:// URL or "-". */
  readonly outputPath: string;
  /** How the archive is encrypted (age), when it is. */
  readonly sealing?: Sealing;
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
  const target = await resolveTarget(session, output, options.standardOutput, sealing !== undefined);
  const secrets =
    split && (await planSecretsArchive(session, target, split.output, (await backupSealing(setting, SECRETS_SEALING)) ?? sealing));
  const holdsSecrets = !split && components.some((component) => component.name === SECRETS);
  if (holdsSecrets) refusePlaintextSecrets(session, target, sealing, '--output');
  if (secrets) refusePlaintextSecrets(session, secrets.target, secrets.sealing, '--secrets-output');
  const transports = wanted.flatMap(({ component, availability }) =>
    availability.available && availability.detail ? [{ component: component.name, detail: availability.detail }] : [],
  );
  return { components, skipped, transports, target, outputPath: targetText(target), sealing, secrets };
}

/** Checks the destination before anything is made: a free name in an existing folder or bucket. */
async function resolveTarget(
  session: Session,
  output: string | undefined,
  standardOutput: Writable | undefined,
  encrypted: boolean,
): Promise<ArchiveTarget> {
  if (output === '-') {
    if (!standardOutput) throw new UsageError('-o - (standard output) is not available here.', { hint: 'Give a file or an s3:// URL.' });
    return { kind: 'stream', output: standardOutput };
  }
  if (output !== undefined && isOffsiteUrl(output)) {
    const url = parseOffsiteUrl(output);
    const store = openOffsiteStore(sessionOffsite(session));
    try {
      await store.checkBucket(url.bucket);
      if (url.folder) {
        // Another backup of the same second holds the default name: -2, -3…, as on disk.
        const name = defaultArchiveName(session, encrypted);
        for (let attempt = 1; attempt < 100; attempt += 1) {
          const candidate = offsiteChild(url, numberedArchiveName(name, attempt));
          if (!(await store.stat(candidate))) return { kind: 's3', url: candidate };
        }
        throw new RuntimeError(`${output}${name} and 98 numbered names beside it are taken.`, { hint: 'Name the archive with --output.' });
      }
      if (await store.stat(url)) {
        throw new UsageError(`${output} already exists.`, { hint: 'Choose another key; archives are never overwritten.' });
      }
      return { kind: 's3', url };
    } finally {
      store.destroy();
    }
  }
  // A default name taken meanwhile (another backup in the same second) gets a -N suffix when
  // the archive is published; only a name the operator chose is refused up front.
  if (output === undefined)
    return { kind: 'file', path: join(session.project.backupsDir, defaultArchiveName(session, encrypted)), defaultName: true };
  const path = resolve(output);
  await checkOutputPath(path);
  return { kind: 'file', path, defaultName: false };
}

const SECRETS = 'secrets';

/** --split-secrets needs secrets and something else; the secrets archive is never standard output. */
function checkSplit(components: readonly Component[], output: string | undefined, secretsOutput: string | undefined): void {
  const names = components.map((component) => component.name);
  if (!names.includes(SECRETS)) {
    throw new UsageError('--split-secrets: secrets is not among the components backed up, so there is nothing to split off.', {
      hint: 'Add secrets to --components (or use "all"), or drop --split-secrets. Nothing was written.',
    });
  }
  if (names.length === 1) {
    throw new UsageError('--split-secrets: secrets is the only component, so the data archive would be empty.', {
      hint: 'Drop --split-secrets: a secrets-only backup is already an archive of its own. Nothing was written.',
    });
  }
  if (secretsOutput === '-') throw new UsageError('--secrets-output cannot be standard output.', { hint: 'Give a file or an s3:// URL.' });
  if (output === '-' && secretsOutput === undefined) {
    throw new UsageError('with -o - the secrets archive needs its own --secrets-output <file|s3://…>.', { hint: 'Nothing was written.' });
  }
}

/** Where the secrets archive goes: --secrets-output, else beside the data archive with -secrets in its name. */
async function planSecretsArchive(
  session: Session,
  dataTarget: ArchiveTarget,
  output: string | undefined,
  sealing: Sealing | undefined,
): Promise<ArchivePlacement> {
  const encrypted = sealing !== undefined;
  checkArchiveExtension(output, encrypted, '--secrets-output');
  const besideData = (text: string) => secretsArchiveName(text, `.tar.gz${encrypted ? '.age' : ''}`);
  let target: ArchiveTarget;
  if (output !== undefined && !(isOffsiteUrl(output) && output.endsWith('/'))) {
    target = await resolveTarget(session, output, undefined, encrypted);
  } else if (output !== undefined) {
    const folder = parseOffsiteUrl(output);
    target = { kind: 's3', url: offsiteChild(folder, besideData(defaultArchiveName(session, false))) };
  } else if (dataTarget.kind === 'file') {
    target = { kind: 'file', path: besideData(dataTarget.path), defaultName: dataTarget.defaultName };
    if (!dataTarget.defaultName) await checkOutputPath(target.path);
  } else if (dataTarget.kind === 's3') {
    target = { kind: 's3', url: { ...dataTarget.url, key: besideData(dataTarget.url.key) } };
  } else {
    throw new UsageError('the secrets archive needs --secrets-output.');
  }
  return { target, outputPath: targetText(target), sealing };
}

/** A bucket is not a place for the deployment's keys in the clear: refused unless the operator says otherwise. */
function refusePlaintextSecrets(session: Session, target: ArchiveTarget, sealing: Sealing | undefined, flag: string): void {
  if (target.kind !== 's3' || sealing !== undefined) return;
  if (session.project.setting('ORKESTRA_ALLOW_PLAINTEXT_SECRETS') === 'yes') return;
  throw new UsageError(
    `${flag} ${offsiteUrlText(target.url)} would put the secrets (docker/.env, docker/keys) into a bucket unencrypted.`,
    {
      hint: 'Encrypt it (--encrypt-to / --recipients-file, or --secrets-encrypt-to with --split-secrets), or pass --allow-plaintext-secrets. Nothing was written.',
    },
  );
}

function targetText(target: ArchiveTarget): string {
  if (target.kind === 'file') return target.path;
  return target.kind === 's3' ? offsiteUrlText(target.url) : '-';
}

/** The target's destination, wrapped to encrypt what it receives when the plan says so. */
async function openDestination(
  session: Session,
  target: ArchiveTarget,
  sealing: Sealing | undefined,
): Promise<{ destination: ArchiveDestination; close(): void }> {
  const opened = await openPlainDestination(session, target);
  if (!sealing) return opened;
  try {
    return { destination: await EncryptingDestination.open(opened.destination, sealing), close: () => opened.close() };
  } catch (error) {
    await opened.destination.discard();
    opened.close();
    throw error;
  }
}

async function openPlainDestination(session: Session, target: ArchiveTarget): Promise<{ destination: ArchiveDestination; close(): void }> {
  if (target.kind === 'file')
    return { destination: await FileDestination.open(target.path, { uniqueName: target.defaultName }), close() {} };
  if (target.kind === 'stream') return { destination: await StreamDestination.open(target.output), close() {} };
  const store = openOffsiteStore(sessionOffsite(session));
  const { tuning } = session.services;
  try {
    const destination = await OffsiteDestination.open(store, target.url, {
      partBytes: tuning.uploadPartBytes,
      concurrency: tuning.uploadConcurrency,
      signal: session.signal,
      onWarning: (message) => session.onEvent({ type: 'step', message: `warning: ${message}` }),
    });
    return { destination, close: () => store.destroy() };
  } catch (error) {
    store.destroy();
    throw error;
  }
}

/**
 * Writes the plan's archive, or with --split-secrets its two archives under one backupId: the
 * secrets archive first (small), then the data archive; when the data archive fails the secrets
 * archive is removed again, so a split backup leaves both archives or neither.
 */
export async function runBackup(session: Session, plan: BackupPlan): Promise<BackupOutcome> {
  const started = new Date();
  const run = { started, backupId: randomUUID() };
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
    compressionLevel: tuning.gzipLevel,
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

function defaultArchiveName(session: Session, encrypted: boolean): string {
  return `orkestra-backup-${session.project.environment}-${utcStamp(new Date())}.tar.gz${encrypted ? '.age' : ''}`;
}

/** An encrypted archive is named `….age` and only it is: the name must say what the file is. */
function checkArchiveExtension(output: string | undefined, encrypted: boolean, flag = '--output'): void {
  if (output === undefined || output === '-' || output.endsWith('/')) return;
  if (encrypted && !output.endsWith('.age')) {
    throw new UsageError(`${flag} ${output} does not end in .age, but the archive is encrypted.`, {
      hint: `Name it ${output.replace(/\.age$/, '')}.age (or leave --output out for the default name). Nothing was written.`,
    });
  }
  if (!encrypted && output.endsWith('.age')) {
    throw new UsageError(`${flag} ${output} ends in .age, but no encryption was asked for.`, {
      hint: 'Add --encrypt-to <age1…>, --recipients-file or --passphrase-file, or name it ….tar.gz. Nothing was written.',
    });
  }
}

async function checkOutputPath(path: string): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new UsageError(`--output ${path} is a folder.`, { hint: 'Give a file name ending in .tar.gz.' });
  }
  if (existing) {
    throw new UsageError(`${path} already exists.`, { hint: 'Choose another --output; archives are never overwritten.' });
  }
  // Only the default ./backups/ is created: a typo in --output must not make a folder tree.
  const parent = await stat(dirname(path)).catch(() => undefined);
  if (!parent?.isDirectory()) {
    throw new UsageError(`the folder of --output ${path} does not exist.`, { hint: 'Create it first, or choose another --output.' });
  }
}

function reasonOf(source: unknown): string {
  if (source && typeof source === 'object' && 'reason' in source) return String((source as { reason: string }).reason);
  return source instanceof Error ? withoutFinalPeriod(source.message) : String(source);
}
