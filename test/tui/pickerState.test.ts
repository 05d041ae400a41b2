import { describe, expect, it } from 'vitest';
import type { BrowsableComponent, BrowsePage } from '../../src/tui/backend.js';
import {
  chosenPicks,
  initialPicker,
  pageRequest,
  pickerRows,
  reducePicker,
  type PickerAction,
  type PickerState,
} from '../../src/tui/pickerState.js';
import { besideAnswered, inPlace, previousScreen } from '../../src/tui/screenState.js';

const components: BrowsableComponent[] = [
  {
    name: 'rustfs',
    title: 'RustFS',
    picking: [],
    beside: { flag: 'to-bucket', value: 'BUCKET', repeatable: false, help: 'h', beside: true },
  },
  { name: 'legacy', title: 'legacy', picking: [], unpickable: 'not known to this version' },
];

const groups = (...names: string[]): BrowsePage => ({
  groups: names.map((name) => ({ kind: 'bucket', name })),
  items: [],
  more: false,
  read: 1,
});
const items = (names: string[], more = false): BrowsePage => ({
  groups: [],
  items: names.map((name) => ({ group: { kind: 'bucket', name: 'b' }, kind: 'object', name, bytes: 1 })),
  more,
  read: names.length + 1,
});

function run(state: PickerState, ...actions: PickerAction[]): PickerState {
  return actions.reduce(reducePicker, state);
}

describe('the picker state', () => {
  const listed = run(initialPicker(), { type: 'components-loaded', components });

  it('opens a component into its groups, a group into a page of its items, and asks for each read', () => {
    const inComponent = run(listed, { type: 'open' });
    expect(inComponent.level).toEqual({ kind: 'groups', component: 'rustfs' });
    expect(inComponent.loading).toBe(true);
    expect(pageRequest(inComponent)).toEqual({ component: 'rustfs', group: undefined, filter: undefined, offset: 0, pageSize: 50 });
    const inGroup = run(inComponent, { type: 'page-loaded', page: groups('a', 'b') }, { type: 'move', by: 1 }, { type: 'open' });
    expect(pageRequest(inGroup)).toEqual({ component: 'rustfs', group: 'b', filter: undefined, offset: 0, pageSize: 50 });
    expect(inGroup.page).toBeUndefined(); // one page held: the groups are dropped while the items are read
  });

  it('an unpickable component says why and is not opened', () => {
    const refused = run(listed, { type: 'move', by: 1 }, { type: 'open' });
    expect(refused.level).toEqual({ kind: 'components' });
    expect(refused.message).toBe('legacy: not known to this version.');
  });

  it('"more…" reads the next page and "previous" the one before; the filter reads from the first page again', () => {
    const inGroup = run(listed, { type: 'open' }, { type: 'page-loaded', page: groups('b') }, { type: 'open' });
    const first = run(inGroup, { type: 'page-loaded', page: items(['x', 'y'], true) });
    expect(pickerRows(first).map((row) => row.kind)).toEqual(['item', 'item', 'more']);
    const second = run(first, { type: 'move', by: 1 }, { type: 'move', by: 1 }, { type: 'open' });
    expect(pageRequest(second)?.offset).toBe(50);
    const shown = run(second, { type: 'page-loaded', page: items(['z']) });
    expect(pickerRows(shown).map((row) => row.kind)).toEqual(['previous', 'item']);
    expect(pageRequest(run(shown, { type: 'open' }))?.offset).toBe(0);
    const filtered = run(
      shown,
      { type: 'filter-start' },
      { type: 'filter-typed', text: 'a*' },
      { type: 'filter-erased' },
      { type: 'filter-typed', text: 'v' },
      { type: 'filter-applied' },
    );
    expect(pageRequest(filtered)).toMatchObject({ filter: 'av', offset: 0, group: 'b' });
    expect(pageRequest(run(filtered, { type: 'filter-start' }, { type: 'filter-dropped' }))).toMatchObject({ filter: undefined });
  });

  it('space picks an item or a whole group; a whole group takes the place of its items, and shows them picked', () => {
    const inGroups = run(listed, { type: 'open' }, { type: 'page-loaded', page: groups('a', 'b') });
    const inB = run(inGroups, { type: 'move', by: 1 }, { type: 'open' }, { type: 'page-loaded', page: items(['x', 'y']) });
    const oneItem = run(inB, { type: 'move', by: 1 }, { type: 'toggle' });
    expect(chosenPicks(oneItem)).toEqual({ rustfs: [{ group: 'b', item: 'y' }] });
    expect(pickerRows(oneItem).map((row) => row.kind === 'item' && row.picked)).toEqual([false, true]);
    expect(run(oneItem, { type: 'toggle' }).picks).toEqual({ rustfs: [] });
    const up = run(oneItem, { type: 'up' }, { type: 'page-loaded', page: groups('a', 'b') });
    expect(pickerRows(up).map((row) => row.kind === 'group' && row.mark)).toEqual(['none', 'some']);
    const whole = run(up, { type: 'move', by: 1 }, { type: 'toggle' });
    expect(chosenPicks(whole)).toEqual({ rustfs: [{ group: 'b' }] });
    const inside = run(whole, { type: 'open' }, { type: 'page-loaded', page: items(['x']) }, { type: 'toggle' });
    expect(pickerRows(inside)[0]).toMatchObject({ kind: 'item', picked: true });
    expect(inside.message).toMatch(/^All of b is picked/);
    expect(chosenPicks(inside)).toEqual({ rustfs: [{ group: 'b' }] });
  });

  it('a cancelled read keeps the level; → reads it again, ← goes up', () => {
    const reading = run(listed, { type: 'open' });
    const cancelled = run(reading, { type: 'read-cancelled' });
    expect(cancelled).toMatchObject({ loading: false, level: { kind: 'groups' }, message: expect.stringContaining('Reading cancelled') });
    expect(run(cancelled, { type: 'open' }).loading).toBe(true);
    expect(run(cancelled, { type: 'up' }).level).toEqual({ kind: 'components' });
  });
});

describe('in place or beside', () => {
  const archive = { file: '/b/a.tar.gz', name: 'a.tar.gz', bytes: 1, modifiedMs: 1 };
  const picked = {
    picks: { rustfs: [{ group: 'b', item: 'x' }] },
    selectors: { objects: ['b/x'] },
    notes: [],
    besides: [{ component: 'rustfs', selector: components[0].beside }],
  };

  it("in place runs with the picks' selectors; beside adds each typed target, asking again for an empty one", () => {
    expect(inPlace(archive, picked)).toEqual({
      kind: 'restore-mode',
      archive,
      components: ['rustfs'],
      choice: { picked, selectors: { objects: ['b/x'] } },
    });
    const asking = { kind: 'restore-beside', archive, picked, answers: {} } as const;
    expect(besideAnswered(asking, '  ')).toBe(asking);
    expect(besideAnswered(asking, ' compare/old ')).toEqual({
      kind: 'restore-mode',
      archive,
      components: ['rustfs'],
      choice: { picked, selectors: { objects: ['b/x'], 'to-bucket': ['compare/old'] } },
    });
  });

  it('Esc from the mode of a picked restore goes back to in place or beside, then to the picks kept', () => {
    const mode = inPlace(archive, picked);
    expect(previousScreen(mode, 'restore')).toEqual({ kind: 'restore-place', archive, picked });
    expect(previousScreen({ kind: 'restore-place', archive, picked }, 'restore')).toEqual({
      kind: 'restore-browse',
      archive,
      picks: picked.picks,
    });
  });
});
