import type { FileRecord, Manifest } from '../archive/manifest.js';
import { componentEntries } from '../archive/reader.js';
import { componentOf, pathInComponent } from '../archive/paths.js';
import type { Component, ComponentSource } from './component.js';

/** An archive as the components see it: its manifest and the files it was found to hold. */
export interface ArchiveView {
  readonly file: string;
  readonly name: string;
  readonly manifest: Manifest;
  readonly files: readonly FileRecord[];
  /** No checksums were recorded (archives of the original bash scripts). */
  readonly legacy: boolean;
}

/** One component's files of an archive, read on demand in archive order. */
export function sourceFor(archive: ArchiveView, component: Component): ComponentSource {
  const files = archive.files
    .filter((record) => componentOf(record.path) === component.name)
    .map((record) => ({
      path: pathInComponent(record.path),
      size: record.size,
      sha256: archive.legacy ? undefined : record.sha256,
    }));
  return {
    archiveName: archive.name,
    files,
    details: archive.manifest.details?.[component.name],
    entries: () => componentEntries(archive.file, component.name),
    async readText(path) {
      for await (const entry of componentEntries(archive.file, component.name)) {
        if (entry.path !== path) continue;
        return Buffer.concat(await entry.content.toArray()).toString('utf8');
      }
      return undefined;
    },
  };
}
