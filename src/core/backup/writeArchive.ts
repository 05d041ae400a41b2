import { unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { MANIFEST_SCHEMA } from '../../archive/manifest.js';
import { ArchiveWriter, type UnindexedManifest } from '../../archive/writer.js';
import { RuntimeError } from '../../base/errors.js';
import { isOffsiteUrl, parseOffsiteUrl } from '../../s3/offsite/offsiteUrl.js';
import type { Component } from '../component.js';
import { fingerprintKeys, type KeyFingerprints } from '../keyFingerprints.js';
import type { ArchiveShape } from '../../model/shape.js';
import { openOffsiteStore, sessionOffsite } from '../offsite.js';
import type { Session } from '../session.js';
import { isoSeconds } from '../timestamps.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { backupComponent } from './backupComponent.js';
import type { RunIdentity, WrittenArchive } from './plan.js';
import { readBack } from './readBack.js';
import { openDestination, type ArchivePlacement } from './targets.js';

/**
 * One archive: each component streamed into the writer in turn, then the manifest, then the
 * archive read back whole before it takes its name. A failure removes what was written.
 */
export async function writeArchive(
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
    const shapes: ArchiveShape['components'] = {};
    const captured: string[] = [];
    for (const component of components) {
      session.signal.throwIfAborted();
      const result = await backupComponent(session, component, writer);
      details[component.name] = result.details;
      if (result.shape) shapes[component.name] = result.shape;
      captured.push(component.name);
    }
    const keyFingerprints = fingerprintKeys((key) => session.project.setting(key));
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
      keyFingerprints,
      shape: { components: shapes, keyNames: setKeyNames(keyFingerprints) },
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

/** The keys that were set (a null fingerprint is a key not set): one that vanishes later is an anomaly. */
function setKeyNames(fingerprints: KeyFingerprints): string[] {
  return Object.entries(fingerprints.keys).flatMap(([name, value]) => (value === null ? [] : [name]));
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

/** Removes an archive written by this run (the secrets archive of a split backup whose data archive failed). */
export async function removeArchive(session: Session, path: string): Promise<void> {
  if (!isOffsiteUrl(path)) return unlink(path);
  const store = openOffsiteStore(sessionOffsite(session));
  try {
    await store.remove(parseOffsiteUrl(path));
  } finally {
    store.destroy();
  }
}
