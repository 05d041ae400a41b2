import { locationName, type ArchiveBytes } from '../archive/location.js';
import { archiveIndex } from '../archive/fileIndex.js';
import type { Manifest } from '../archive/manifest.js';
import { checkArchive, readManifest, sizeProblem } from '../archive/reader.js';
import { SequentialReader, sourceFor, type ArchiveView } from './archiveSource.js';
import type { Component, FoundItem, NameMatcher } from './component.js';
import { UsageError } from '../base/errors.js';
import { printable, withoutFinalPeriod } from '../base/format.js';
import { ComponentProgress } from '../model/progress.js';
import type { EventListener } from '../model/events.js';

export interface FindOptions {
  components: readonly Component[];
  setting: (key: string) => string | undefined;
  onEvent: EventListener;
  /** A configured component (volume, directory) made from the definition the archive recorded. */
  fromArchive?: (name: string, details: unknown) => Component | undefined;
  matches: NameMatcher;
  /** How many matches are kept to show; the rest are counted. */
  limit: number;
}

export interface FoundMatch extends FoundItem {
  readonly component: string;
}

/** What one component's part held that matched. */
export interface ComponentMatches {
  readonly name: string;
  readonly matches: number;
  readonly bytes: number;
  /** Why it could not be searched (this version does not know it, or cannot search it). */
  readonly unsearched?: string;
}

export interface ArchiveSearch {
  readonly file: string;
  readonly name: string;
  readonly manifest?: Manifest;
  /** The first `limit` matches, in archive order. */
  readonly shown: readonly FoundMatch[];
  /** Every match, shown or not. */
  readonly total: number;
  readonly components: readonly ComponentMatches[];
  /** What stopped the search of a part (damage), each prefixed by the component. */
  readonly problems: string[];
}

/**
 * Searches an archive's items by name without any server, each component by its own `find`, in
 * one pass: components are taken in the order their files appear and read through one shared
 * reader, so the archive is decompressed once. Only the first `limit` matches are held.
 */
export async function findInArchive(location: ArchiveBytes, options: FindOptions): Promise<ArchiveSearch> {
  const file = location.path;
  const name = locationName(location);
  let manifest: Manifest;
  try {
    manifest = (await readManifest(location)).manifest;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return { file, name, shown: [], total: 0, components: [], problems: [withoutFinalPeriod(error.message)] };
  }
  const view = await searchView(location, manifest);
  const { index } = view;
  const reader = SequentialReader.fits(view) ? new SequentialReader(view) : undefined;
  const shown: FoundMatch[] = [];
  const problems: string[] = [];
  const components: ComponentMatches[] = [];
  let total = 0;
  try {
    for (const componentName of inArchiveOrder(manifest.components, index.order)) {
      const component = componentNamed(componentName, manifest, options);
      if (!component?.find) {
        const unsearched = component ? 'this version cannot search it' : 'not known to this version';
        components.push({ name: componentName, matches: 0, bytes: 0, unsearched });
        continue;
      }
      const progress = new ComponentProgress(component.name, 'check', options.onEvent);
      const tally = { name: componentName, matches: 0, bytes: 0 };
      try {
        const context = { source: sourceFor(view, component, reader), setting: options.setting };
        for await (const item of component.find(context, options.matches)) {
          tally.matches += 1;
          tally.bytes += item.bytes;
          if (shown.length < options.limit) shown.push({ component: componentName, ...item });
        }
      } catch (error) {
        // A damaged part stops its own search, not the others'.
        if (!(error instanceof UsageError)) throw error;
        const message = withoutFinalPeriod(error.message);
        const inside = message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message; // the archive is named above
        problems.push(`${componentName}: ${printable(inside)}`);
      }
      total += tally.matches;
      components.push(tally);
      progress.done(matchCount(tally.matches));
    }
  } finally {
    await reader?.close();
  }
  return { file, name, manifest, shown, total, components, problems };
}

/**
 * The archive as its components' `find` reads it, refused when cut (it would fail midway through a
 * component's part: refused from its first bytes instead). An archive of the original scripts
 * lists no files: they are found by reading it first.
 */
export async function searchView(location: ArchiveBytes, manifest: Manifest): Promise<ArchiveView> {
  const name = locationName(location);
  const misfit = await sizeProblem(location, manifest);
  if (misfit) throw new UsageError(`${name}: ${misfit}.`, { hint: 'Use another copy of the backup (verify tells what is wrong).' });
  const listed = archiveIndex(location, manifest);
  const index = listed ?? (await checkArchive(location, manifest)).index;
  return { file: location.path, location, name, manifest, index, legacy: listed === undefined };
}

/** The component of this version that reads the archive's part `name`: a built-in one, or one made from the archive's definition. */
export function componentNamed(
  name: string,
  manifest: Manifest,
  known: Pick<FindOptions, 'components' | 'fromArchive'>,
): Component | undefined {
  return known.components.find((candidate) => candidate.name === name) ?? known.fromArchive?.(name, manifest.details?.[name]);
}

/** The manifest's components, those holding files first in the order their files appear (the reader's one pass). */
function inArchiveOrder(components: readonly string[], order: readonly string[]): string[] {
  const place = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  return [...components].sort((a, b) => place(a) - place(b));
}

export function matchCount(count: number): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? 'match' : 'matches'}`;
}
