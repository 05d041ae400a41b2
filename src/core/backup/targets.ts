/**
 * Where a backup's archives go: the target of --output (a file, an s3:// object or folder,
 * standard output), the secrets archive of a split backup beside it, and the destination each
 * one is written through. Checked before anything is made.
 */
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { Sealing } from '../../age/header.js';
import { numberedArchiveName, secretsArchiveName } from '../../archive/archiveNames.js';
import type { ArchiveDestination } from '../../archive/destination.js';
import { EncryptingDestination } from '../../archive/encryptingDestination.js';
import { FileDestination } from '../../archive/fileDestination.js';
import { StreamDestination } from '../../archive/streamDestination.js';
import { RuntimeError, UsageError } from '../../base/errors.js';
import { OffsiteDestination } from '../../s3/offsite/offsiteDestination.js';
import { isOffsiteUrl, offsiteChild, offsiteUrlText, parseOffsiteUrl, type OffsiteUrl } from '../../s3/offsite/offsiteUrl.js';
import type { Component } from '../component.js';
import { openOffsiteStore, sessionOffsite } from '../offsite.js';
import type { Session } from '../session.js';
import { utcStamp } from '../timestamps.js';
import { SECRETS } from '../../archive/archiveNames.js';

/** Where a backup goes: a local file, an object in the off-site bucket, or a stream (standard output). */
export type ArchiveTarget =
  | {
      readonly kind: 'file';
      readonly path: string;
      /** The default name, which may take a `-2` suffix if taken meanwhile. */ readonly defaultName: boolean;
    }
  | { readonly kind: 's3'; readonly url: OffsiteUrl }
  | { readonly kind: 'stream'; readonly output: Writable };

/** Where one archive goes and how it is encrypted: the plan's own, or its secrets archive's. */
export interface ArchivePlacement {
  readonly target: ArchiveTarget;
  /** The target as a path, an s3:// URL or "-". */
  readonly outputPath: string;
  /** How the archive is encrypted (age), when it is. */
  readonly sealing?: Sealing;
}

/** Checks the destination before anything is made: a free name in an existing folder or bucket. */
export async function resolveTarget(
  session: Session,
  output: string | undefined,
  standardOutput: Writable | undefined,
  encrypted: boolean,
  extension = '.tar.gz',
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
        const name = defaultArchiveName(session, encrypted, extension);
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
    return { kind: 'file', path: join(session.project.backupsDir, defaultArchiveName(session, encrypted, extension)), defaultName: true };
  const path = resolve(output);
  await checkOutputPath(path);
  return { kind: 'file', path, defaultName: false };
}

/** --split-secrets needs secrets and something else; the secrets archive is never standard output. */
export function checkSplit(components: readonly Component[], output: string | undefined, secretsOutput: string | undefined): void {
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
export async function planSecretsArchive(
  session: Session,
  dataTarget: ArchiveTarget,
  output: string | undefined,
  sealing: Sealing | undefined,
  extension = '.tar.gz',
): Promise<ArchivePlacement> {
  const encrypted = sealing !== undefined;
  checkArchiveExtension(output, encrypted, '--secrets-output');
  const besideData = (text: string) => secretsArchiveName(text, `${extension}${encrypted ? '.age' : ''}`);
  let target: ArchiveTarget;
  if (output !== undefined && !(isOffsiteUrl(output) && output.endsWith('/'))) {
    target = await resolveTarget(session, output, undefined, encrypted, extension);
  } else if (output !== undefined) {
    const folder = parseOffsiteUrl(output);
    target = { kind: 's3', url: offsiteChild(folder, besideData(defaultArchiveName(session, false, extension))) };
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
export function refusePlaintextSecrets(session: Session, target: ArchiveTarget, sealing: Sealing | undefined, flag: string): void {
  if (target.kind !== 's3' || sealing !== undefined) return;
  if (session.project.setting('ORKESTRA_ALLOW_PLAINTEXT_SECRETS') === 'yes') return;
  throw new UsageError(
    `${flag} ${offsiteUrlText(target.url)} would put the secrets (docker/.env, docker/keys) into a bucket unencrypted.`,
    {
      hint: 'Encrypt it (--encrypt-to / --recipients-file, or --secrets-encrypt-to with --split-secrets), or pass --allow-plaintext-secrets. Nothing was written.',
    },
  );
}

export function targetText(target: ArchiveTarget): string {
  if (target.kind === 'file') return target.path;
  return target.kind === 's3' ? offsiteUrlText(target.url) : '-';
}

/** The target's destination, wrapped to encrypt what it receives when the plan says so. */
export async function openDestination(
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

function defaultArchiveName(session: Session, encrypted: boolean, extension: string): string {
  return `orkestra-backup-${session.project.environment}-${utcStamp(new Date())}${extension}${encrypted ? '.age' : ''}`;
}

/** An encrypted archive is named `….age` and only it is: the name must say what the file is. */
export function checkArchiveExtension(output: string | undefined, encrypted: boolean, flag = '--output'): void {
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
