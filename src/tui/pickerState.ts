import type { PickedItem, RestoreSelector } from '../core/component.js';
import type { BrowsableComponent, BrowsePage, BrowseRequest, PicksByComponent, SelectorValues } from './backend.js';

/** Groups or items read from the archive at a time: one page is all the picker holds. */
export const PAGE_SIZE = 50;

/** Where the picker is in the tree: the archive's components, one component's groups, or one group's items. */
export type PickerLevel =
  | { readonly kind: 'components' }
  | { readonly kind: 'groups'; readonly component: string }
  | { readonly kind: 'items'; readonly component: string; readonly group: string };

export interface PickerState {
  readonly level: PickerLevel;
  readonly components?: readonly BrowsableComponent[];
  /** The page shown; undefined while it is read (or when its read was cancelled). */
  readonly page?: BrowsePage;
  /** Groups or items of the listing before the page. */
  readonly offset: number;
  /** A read of the archive is running: the page (or the component list) asked for. */
  readonly loading: boolean;
  /** The name filter of the listing (`/`); `typing` while it is being typed. */
  readonly filter: string;
  readonly typing: boolean;
  readonly cursor: number;
  readonly picks: PicksByComponent;
  /** Why the last step did nothing (a refusal, a failed read, a cancelled one). */
  readonly message?: string;
}

export type PickerAction =
  | { type: 'components-loaded'; components: readonly BrowsableComponent[] }
  | { type: 'page-loaded'; page: BrowsePage }
  | { type: 'read-failed'; message: string }
  | { type: 'read-cancelled' }
  | { type: 'open' }
  | { type: 'up' }
  | { type: 'move'; by: 1 | -1 }
  | { type: 'toggle' }
  | { type: 'filter-start' }
  | { type: 'filter-typed'; text: string }
  | { type: 'filter-erased' }
  | { type: 'filter-applied' }
  | { type: 'filter-dropped' }
  | { type: 'refused'; message: string };

/** One row of the listing: a component, a group, an item, or a move to another page. */
export type PickerRow =
  | { readonly kind: 'component'; readonly component: BrowsableComponent; readonly picked: number }
  | { readonly kind: 'group'; readonly name: string; readonly detail?: string; readonly mark: 'all' | 'some' | 'none' }
  | { readonly kind: 'item'; readonly name: string; readonly bytes: number; readonly detail?: string; readonly picked: boolean }
  | { readonly kind: 'previous' }
  | { readonly kind: 'more' };

export function initialPicker(picks: PicksByComponent = {}): PickerState {
  return { level: { kind: 'components' }, offset: 0, loading: true, filter: '', typing: false, cursor: 0, picks };
}

/** The read a state waits for: the page of its level, offset and filter (none at the components level). */
export function pageRequest(state: PickerState): BrowseRequest | undefined {
  const { level } = state;
  if (level.kind === 'components') return undefined;
  return {
    component: level.component,
    group: level.kind === 'items' ? level.group : undefined,
    filter: state.filter || undefined,
    offset: state.offset,
    pageSize: PAGE_SIZE,
  };
}

/** Every move of the picker, pure: the screen renders `pickerRows` and runs the read `loading` asks for. */
export function reducePicker(state: PickerState, action: PickerAction): PickerState {
  switch (action.type) {
    case 'components-loaded':
      return { ...state, components: action.components, loading: false, cursor: 0 };
    case 'page-loaded':
      return { ...state, page: action.page, loading: false, cursor: 0 };
    case 'read-failed':
      return { ...state, loading: false, message: action.message };
    case 'read-cancelled':
      return { ...state, loading: false, message: 'Reading cancelled: esc goes back, → reads again.' };
    case 'refused':
      return { ...state, message: action.message };
    case 'move': {
      const rows = pickerRows(state).length;
      return { ...state, cursor: Math.max(0, Math.min(rows - 1, state.cursor + action.by)) };
    }
    case 'open':
      return opened(state);
    case 'up':
      return up(state);
    case 'toggle':
      return toggled(state);
    case 'filter-start':
      return state.level.kind === 'components' || state.loading ? state : { ...state, typing: true, message: undefined };
    case 'filter-typed':
      return state.typing ? { ...state, filter: state.filter + action.text } : state;
    case 'filter-erased':
      return state.typing ? { ...state, filter: state.filter.slice(0, -1) } : state;
    case 'filter-applied':
      return state.typing ? reading({ ...state, typing: false, offset: 0 }) : state;
    case 'filter-dropped':
      return reading({ ...state, typing: false, filter: '', offset: 0 });
  }
}

/** The rows shown for the state: what the cursor moves over. */
export function pickerRows(state: PickerState): PickerRow[] {
  const { level, page, picks } = state;
  if (level.kind === 'components') {
    return (state.components ?? []).map((component) => ({ kind: 'component', component, picked: picks[component.name]?.length ?? 0 }));
  }
  if (!page) return [];
  const picked = picks[level.component] ?? [];
  const rows: PickerRow[] = state.offset > 0 ? [{ kind: 'previous' }] : [];
  if (level.kind === 'groups') {
    for (const group of page.groups) {
      const mine = picked.filter((pick) => pick.group === group.name);
      const mark = mine.some((pick) => pick.item === undefined) ? 'all' : mine.length > 0 ? 'some' : 'none';
      rows.push({ kind: 'group', name: group.name, detail: group.detail, mark });
    }
  } else {
    const whole = picked.some((pick) => pick.group === level.group && pick.item === undefined);
    for (const item of page.items) {
      const one = picked.some((pick) => pick.group === level.group && pick.item === item.name);
      rows.push({ kind: 'item', name: item.name, bytes: item.bytes, detail: item.detail, picked: whole || one });
    }
  }
  if (page.more) rows.push({ kind: 'more' });
  return rows;
}

/** A new read of the level's page: the old page is dropped (one page is held). */
function reading(state: PickerState): PickerState {
  return { ...state, page: undefined, loading: true, cursor: 0, message: undefined };
}

function opened(state: PickerState): PickerState {
  if (state.loading) return state;
  const { level } = state;
  if (level.kind !== 'components' && !state.page) return reading(state); // a cancelled read, asked again
  const row = pickerRows(state)[state.cursor];
  if (row === undefined) return state;
  switch (row.kind) {
    case 'component':
      if (row.component.unpickable) return { ...state, message: `${row.component.name}: ${row.component.unpickable}.` };
      return reading({ ...state, level: { kind: 'groups', component: row.component.name }, offset: 0, filter: '' });
    case 'group':
      if (level.kind !== 'groups') return state;
      return reading({ ...state, level: { kind: 'items', component: level.component, group: row.name }, offset: 0, filter: '' });
    case 'more':
      return reading({ ...state, offset: state.offset + PAGE_SIZE });
    case 'previous':
      return reading({ ...state, offset: Math.max(0, state.offset - PAGE_SIZE) });
    case 'item':
      return state;
  }
}

function up(state: PickerState): PickerState {
  const { level } = state;
  if (level.kind === 'items') {
    return reading({ ...state, level: { kind: 'groups', component: level.component }, offset: 0, filter: '' });
  }
  if (level.kind === 'groups')
    return {
      ...state,
      level: { kind: 'components' },
      page: undefined,
      loading: false,
      offset: 0,
      filter: '',
      cursor: 0,
      message: undefined,
    };
  return state;
}

/** Space: a whole group (its item picks folded into it), or one item; again, off. */
function toggled(state: PickerState): PickerState {
  const { level } = state;
  const row = pickerRows(state)[state.cursor];
  if (level.kind === 'components' || row === undefined) return state;
  const picked = state.picks[level.component] ?? [];
  const withPicks = (next: readonly PickedItem[]): PickerState => ({
    ...state,
    picks: { ...state.picks, [level.component]: next },
    message: undefined,
  });
  if (row.kind === 'group') {
    const others = picked.filter((pick) => pick.group !== row.name);
    return withPicks(row.mark === 'all' ? others : [...others, { group: row.name }]);
  }
  if (row.kind !== 'item' || level.kind !== 'items') return state;
  const group = level.group;
  if (picked.some((pick) => pick.group === group && pick.item === undefined)) {
    return { ...state, message: `All of ${group} is picked: space on the group, one level up, unpicks it.` };
  }
  return withPicks(
    row.picked ? picked.filter((pick) => !(pick.group === group && pick.item === row.name)) : [...picked, { group, item: row.name }],
  );
}

/** Picks of every component, those without any left out. */
export function chosenPicks(state: PickerState): PicksByComponent {
  return Object.fromEntries(Object.entries(state.picks).filter(([, picks]) => picks.length > 0));
}

/** What the picker hands on: the picks, the selector values that restore exactly them, and what those take besides. */
export interface PickedSelection {
  readonly picks: PicksByComponent;
  readonly selectors: SelectorValues;
  /** What the selectors take besides the picks (a key prefix takes longer keys), for people. */
  readonly notes: readonly string[];
  /** Each picked component's selector that restores beside (`--into`), asked for when restoring beside. */
  readonly besides: readonly { readonly component: string; readonly selector?: RestoreSelector }[];
}

/** The beside selector of each picked component (none: it cannot restore beside). */
export function besidesOf(state: PickerState, picks: PicksByComponent): PickedSelection['besides'] {
  return Object.keys(picks).map((component) => ({
    component,
    selector: state.components?.find((candidate) => candidate.name === component)?.beside,
  }));
}
