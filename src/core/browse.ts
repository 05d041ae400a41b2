import { readManifest } from '../archive/reader.js';
import type { ArchiveBytes } from '../archive/location.js';
import type { Manifest } from '../archive/manifest.js';
import { AbortedError, UsageError } from '../base/errors.js';
import { nameMatcher } from '../base/globMatch.js';
import { sourceFor } from './archiveSource.js';
import type { Component, FoundItem, NameMatcher, PickedItem, RestoreSelector } from './component.js';
import { componentNamed, searchView } from './find.js';
import type { SelectorValues } from './restoreSelection.js';

/** Where a component's items live (a database, a Redis database, a bucket, a folder), as `find` names it. */
export type ItemGroup = FoundItem['group'];

/** The components of this version that can read an archive's parts, and the archive's own definitions. */
export interface BrowseOptions {
  readonly components: readonly Component[];
  readonly fromArchive?: (name: string, details: unknown) => Component | undefined;
  readonly setting: (key: string) => string | undefined;
}

/** A component of the archive as the picker shows it. */
export interface BrowsableComponent {
  readonly name: string;
  readonly title: string;
  /** Why its items cannot be picked (this version cannot list them, or has no selectors for them). */
  readonly unpickable?: string;
  /** Its selectors that pick (`--files`), shown with what they do. */
  readonly picking: readonly RestoreSelector[];
  /** Its selector that restores beside the live target (`--to-database`), asked for when restoring beside. */
  readonly beside?: RestoreSelector;
}

/** One page of a component's groups (no `group` asked) or of one group's items. */
export interface BrowseRequest {
  readonly component: string;
  readonly group?: string;
  /** What `/` typed: a glob when it holds `*`, `?`, `[` or `{`, else a part of the name (any case). */
  readonly filter?: string;
  /** Groups or items of the listing to step over (the pages before). */
  readonly offset: number;
  readonly pageSize: number;
}

export interface BrowsePage {
  /** The groups (a listing of groups) or the items (a listing of one group's) of the page, in archive order. */
  readonly groups: readonly ItemGroup[];
  readonly items: readonly FoundItem[];
  /** Whether the listing goes on after the page. */
  readonly more: boolean;
  /** How many items the component's `find` yielded before the page was full (what the read cost). */
  readonly read: number;
}

/** The components of an archive, each with whether its items can be picked. */
export function browsableComponents(manifest: Manifest, options: BrowseOptions): BrowsableComponent[] {
  return manifest.components.map((name) => {
    const component = componentNamed(name, manifest, options);
    if (!component) return { name, title: name, unpickable: 'not known to this version', picking: [] };
    const unpickable = !component.find || !component.pickSelectors ? 'this version cannot pick its items' : undefined;
    const selectors = component.selectors ?? [];
    return {
      name,
      title: component.title,
      unpickable,
      picking: selectors.filter((selector) => !selector.beside && selector.value !== undefined),
      beside: selectors.find((selector) => selector.beside),
    };
  });
}

/**
 * One page of a component's groups or of one group's items, read from the archive as `inspect
 * --find` reads it: the component's `find` is stopped as soon as the page is full, so a page
 * of an archive of a million objects costs what reading up to it costs, and memory holds one page.
 */
export async function browseArchive(
  location: ArchiveBytes,
  request: BrowseRequest,
  options: BrowseOptions,
  signal: AbortSignal,
): Promise<BrowsePage> {
  signal.throwIfAborted();
  const { manifest } = await readManifest(location);
  const view = await searchView(location, manifest);
  const component = manifest.components.includes(request.component) ? componentNamed(request.component, manifest, options) : undefined;
  if (!component?.find) throw new UsageError(`${view.name} holds no part ${request.component} whose items this version can list.`);
  const source = sourceFor(view, component);
  const context = { source, setting: options.setting, shape: manifest.shape?.components[request.component] };
  const groups = request.group === undefined ? await component.groups?.(context) : undefined;
  if (groups) return groupsPage(groups, request);
  const filter = request.filter ? filterMatcher(request.filter) : undefined;
  // Items are filtered by the component (a collection is also matched as database.collection); groups here.
  const matches = request.group !== undefined && filter ? filter : () => true;
  return pageOf(component.find(context, matches), request, signal);
}

/** A page of the groups a component knows from the manifest (a few buckets, folders or databases: held whole). */
function groupsPage(groups: readonly ItemGroup[], request: BrowseRequest): BrowsePage {
  const filter = request.filter ? filterMatcher(request.filter) : undefined;
  const kept = filter ? groups.filter((group) => filter(group.name)) : groups;
  const end = request.offset + request.pageSize;
  return { groups: kept.slice(request.offset, end), items: [], more: kept.length > end, read: 0 };
}

/**
 * What `/` types as a name filter: a glob as `inspect --find` takes it when it holds a glob
 * character, else a part of the name in any case (`sess` finds `Session:1`).
 */
export function filterMatcher(text: string): NameMatcher {
  if (/[*?[{]/.test(text)) return nameMatcher(text);
  const part = text.toLowerCase();
  return (name) => name.toLowerCase().includes(part);
}

/**
 * A page of `items`: the distinct groups (no `request.group`) or the items of one group, after
 * `offset` of them. The iterator is left as soon as the page is full (one more tells whether the
 * listing goes on), and at once when `signal` aborts: a read still waiting is then let go.
 */
export async function pageOf(items: AsyncIterable<FoundItem>, request: BrowseRequest, signal: AbortSignal): Promise<BrowsePage> {
  const groups: ItemGroup[] = [];
  const found: FoundItem[] = [];
  const seen = new Set<string>(); // groups stepped over or shown: at most offset + pageSize + 1
  const filter = request.group === undefined && request.filter ? filterMatcher(request.filter) : undefined;
  let skipped = 0;
  let read = 0;
  let more = false;
  const iterator = items[Symbol.asyncIterator]();
  const aborted = abortion(signal);
  let waiting: Promise<unknown> | undefined;
  try {
    for (;;) {
      const next = iterator.next();
      waiting = next;
      next.catch(() => undefined); // let go after an abort: its failure is no one's
      const step = await Promise.race([next, aborted.promise]);
      waiting = undefined;
      if (step.done) break;
      read += 1;
      const { group } = step.value;
      let taken: boolean;
      if (request.group === undefined) {
        if (seen.has(group.name) || (filter && !filter(group.name))) continue;
        seen.add(group.name);
        taken = true;
      } else taken = group.name === request.group;
      if (!taken) continue;
      if (skipped < request.offset) {
        skipped += 1;
        continue;
      }
      if (groups.length + found.length === request.pageSize) {
        more = true;
        break;
      }
      if (request.group === undefined) groups.push(group);
      else found.push(step.value);
    }
  } finally {
    aborted.dispose();
    // A generator still running cannot be returned until its read settles: it is returned once that does.
    if (waiting === undefined) await iterator.return?.();
    else void waiting.then(() => iterator.return?.()).catch(() => undefined);
  }
  return { groups, items: found, more, read };
}

/** A promise that rejects when `signal` aborts, never otherwise. */
function abortion(signal: AbortSignal): { promise: Promise<never>; dispose: () => void } {
  let onAbort = () => undefined as void;
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new AbortedError('cancelled'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => undefined);
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

/** Picks of one component, by component name. */
export type PicksByComponent = Readonly<Record<string, readonly PickedItem[]>>;

/** The selector values that restore exactly the picks, with what they take besides (notes), or why they cannot. */
export type PicksAsSelectors = { readonly selectors: SelectorValues; readonly notes: readonly string[] } | { readonly refused: string };

/**
 * Each component's picks as its own selector flags (`pickSelectors`). Refused when a component
 * cannot express its picks in one restore, or two picked components would take the same flag
 * (`--files` of secrets and of a directory component: a restore gives a flag to one).
 */
export function picksAsSelectors(manifest: Manifest, picks: PicksByComponent, options: BrowseOptions): PicksAsSelectors {
  const selectors: Record<string, readonly string[]> = {};
  const owner = new Map<string, string>();
  const notes: string[] = [];
  for (const [name, picked] of Object.entries(picks)) {
    if (picked.length === 0) continue;
    const component = componentNamed(name, manifest, options);
    if (!component?.pickSelectors) return { refused: `${name}: this version cannot pick its items.` };
    const answer = component.pickSelectors(picked, manifest.details?.[name]);
    if ('refused' in answer) return { refused: `${name}: ${answer.refused}` };
    for (const [flag, values] of Object.entries(answer.flags)) {
      const other = owner.get(flag);
      if (other !== undefined) {
        return {
          refused: `${other} and ${name} both take --${flag}: pick from one of them per restore, then restore the other in another run.`,
        };
      }
      owner.set(flag, name);
      selectors[flag] = values;
    }
    if (answer.note) notes.push(`${name}: ${answer.note}`);
  }
  return { selectors, notes };
}
