import { Readable } from 'node:stream';
import type { ReadEntry } from 'tar';
import type { FileRecord, Manifest } from '../archive/manifest.js';
import { componentEntries, type ArchiveEntry } from '../archive/reader.js';
import { componentOf, normalizeEntryPath, pathInComponent } from '../archive/paths.js';
import { tarEntries } from '../archive/tarStream.js';
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

/**
 * One component's files of an archive, read on demand in archive order. With a shared
 * `SequentialReader`, components restored one after the other read the archive in one pass
 * instead of each decompressing it from the start.
 */
export function sourceFor(archive: ArchiveView, component: Component, reader?: SequentialReader): ComponentSource {
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
    entries: () => (reader ? reader.entries(component.name) : componentEntries(archive.file, component.name, files.length)),
    async readText(path) {
      for await (const entry of componentEntries(archive.file, component.name, files.length)) {
        if (entry.path !== path) continue;
        return Buffer.concat(await entry.content.toArray()).toString('utf8');
      }
      return undefined;
    },
  };
}

/** A file entry of the archive with the component it belongs to. */
interface ArchiveFile {
  entry: ReadEntry;
  component: string | undefined;
  path: string;
}

/**
 * Reads an archive once for components that ask for their entries in the order their files
 * appear (which is how backup writes them): each picks up where the previous one stopped. A
 * component asking out of order gets a fresh pass, so the result is always correct.
 */
export class SequentialReader {
  private iterator: AsyncGenerator<ReadEntry> | undefined;
  private held: ArchiveFile | undefined;
  /** Components whose entries this pass has already gone through (or past). */
  private readonly passed = new Set<string>();
  private readonly order: string[];

  constructor(private readonly archive: ArchiveView) {
    this.order = [...new Set(archive.files.map((file) => componentOf(file.path)).filter((name): name is string => Boolean(name)))];
  }

  /** Our own archives hold each component's files together, in one order; legacy ones may not. */
  static fits(archive: ArchiveView): boolean {
    const sequence = archive.files.map((file) => componentOf(file.path));
    return !archive.legacy && sequence.every((name, index) => index === 0 || name === sequence[index - 1] || !sequence.slice(0, index).includes(name));
  }

  async *entries(component: string): AsyncGenerator<ArchiveEntry> {
    const wanted = this.order.indexOf(component);
    if (!this.iterator || this.passed.has(component)) this.restart();
    for (const name of this.order.slice(0, wanted + 1)) this.passed.add(name);
    for (;;) {
      const next = this.held ?? (await this.read());
      this.held = undefined;
      if (!next) return;
      if (next.component === component) {
        yield { path: pathInComponent(next.path), size: next.entry.size, content: Readable.from(next.entry) };
        continue;
      }
      if (next.component !== undefined && this.order.indexOf(next.component) > wanted) {
        this.held = next; // the next component's first file: leave it for that component
        return;
      }
      next.entry.resume(); // an earlier component's file that nobody asked for
    }
  }

  async close(): Promise<void> {
    await this.iterator?.return(undefined);
    this.iterator = undefined;
  }

  private restart(): void {
    void this.iterator?.return(undefined);
    this.iterator = tarEntries(this.archive.file);
    this.held = undefined;
    this.passed.clear();
  }

  private async read(): Promise<ArchiveFile | undefined> {
    for (;;) {
      const next = await this.iterator!.next();
      if (next.done) return undefined;
      const entry = next.value;
      const normalized = normalizeEntryPath(entry.path);
      if ((entry.type !== 'File' && entry.type !== 'OldFile') || !('path' in normalized)) {
        entry.resume();
        continue;
      }
      return { entry, component: componentOf(normalized.path), path: normalized.path };
    }
  }
}
