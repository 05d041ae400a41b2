import { Box, Text, useInput, useStdout, type Key } from 'ink';
import Spinner from 'ink-spinner';
import { useCallback, useEffect, useReducer, useRef } from 'react';
import { AbortedError, describeError } from '../../base/errors.js';
import { formatBytes, printableName } from '../../base/format.js';
import type { ArchiveListing, PicksByComponent, TuiBackend } from '../backend.js';
import {
  besidesOf,
  chosenPicks,
  initialPicker,
  pageRequest,
  pickerRows,
  reducePicker,
  type PickedSelection,
  type PickerAction,
  type PickerRow,
  type PickerState,
} from '../pickerState.js';
import { HelpLine } from '../widgets/HelpLine.js';

/** The keys of the picker and how `/` reads what is typed. */
export const PICKER_KEYS =
  '↑/↓ move · → open · ← up · space pick the item, or a whole group · / filter by name (a part of it, any case; a glob when it holds * ? [ {) · enter continue · esc back, or cancel a read · q quit';

/**
 * "Pick what to restore": the archive's components, then a component's groups (databases, Redis
 * databases, buckets, folders), then a group's items, read from the archive a page at a time
 * (`backend.browse`, stopped when the page is full; Esc stops a read). Space picks, Enter turns
 * the picks into the components' selectors (`backend.picksAsSelectors`) or shows why it cannot.
 */
export function PickerScreen({
  archive,
  backend,
  picks,
  onContinue,
  onBack,
  onQuit,
}: {
  archive: ArchiveListing;
  backend: TuiBackend;
  picks?: PicksByComponent;
  onContinue: (picked: PickedSelection) => void;
  onBack: () => void;
  onQuit: () => void;
}) {
  const [state, dispatchNow] = useReducer(reducePicker, picks, initialPicker);
  // The state as the keys so far left it: keys that arrive together are handled before React renders.
  const now = useRef(state);
  now.current = state;
  const dispatch = useCallback((action: PickerAction) => {
    now.current = reducePicker(now.current, action);
    dispatchNow(action);
  }, []);

  const cancelRead = usePageReads(state, dispatch, backend, archive.file);

  const carryOn = useCarryOn(backend, archive.file, now, dispatch, onContinue);

  useInput((input, key) => {
    const current = now.current;
    if (current.typing) {
      // A paste or a fast typist delivers "text\r" as one input: the text counts, then the Enter.
      const [typed, ...rest] = input.split(/\r\n|\r|\n/);
      if (rest.length === 0) return dispatch(filterKey(input, key));
      dispatch({ type: 'filter-typed', text: typed });
      return dispatch({ type: 'filter-applied' });
    }
    if (input.length > 1 && input.startsWith('/')) {
      dispatch({ type: 'filter-start' });
      return dispatch({ type: 'filter-typed', text: input.slice(1) });
    }
    if (key.escape) {
      if (!current.loading || current.level.kind === 'components')
        return current.level.kind === 'components' ? onBack() : dispatch({ type: 'up' });
      cancelRead();
      return dispatch({ type: 'read-cancelled' });
    }
    if (input === 'q') return onQuit();
    if (key.return) return void carryOn();
    const action = moveKey(input, key);
    if (action) dispatch(action);
  });

  return (
    <Box flexDirection="column">
      <PickerHeader name={archive.name} state={state} />
      <Box marginTop={1} flexDirection="column">
        {state.loading ? (
          <Text>
            <Text color="cyan">
              <Spinner type="dots" />
            </Text>{' '}
            reading… (esc cancels)
          </Text>
        ) : (
          <VisibleRows rows={pickerRows(state)} cursor={state.cursor} />
        )}
        {!state.loading && state.page && pickerRows(state).length === 0 ? (
          <Text dimColor>nothing here{state.filter ? ' matches the filter' : ''}</Text>
        ) : null}
      </Box>
      {state.message ? <Text color="yellow">{state.message}</Text> : null}
      <Text>{pickedLine(state.picks)}</Text>
      <HelpLine keys={PICKER_KEYS} />
      <Text dimColor>{selectorHelp(state)}</Text>
    </Box>
  );
}

/** Enter: the picks as the components' selectors, handed on, or the reason they cannot be restored in one run. */
function useCarryOn(
  backend: TuiBackend,
  file: string,
  now: { readonly current: PickerState },
  dispatch: (action: PickerAction) => void,
  onContinue: (picked: PickedSelection) => void,
): () => Promise<void> {
  const continuing = useRef(false);
  return async () => {
    const chosen = chosenPicks(now.current);
    if (Object.keys(chosen).length === 0) {
      return dispatch({ type: 'refused', message: 'Nothing picked yet: space picks the item or group under the cursor.' });
    }
    if (continuing.current) return;
    continuing.current = true;
    try {
      const answer = await backend.picksAsSelectors(file, chosen);
      if ('refused' in answer) dispatch({ type: 'refused', message: answer.refused });
      else onContinue({ picks: chosen, selectors: answer.selectors, notes: answer.notes, besides: besidesOf(now.current, chosen) });
    } catch (error) {
      dispatch({ type: 'refused', message: describeError(error) });
    } finally {
      continuing.current = false;
    }
  };
}

/** The read the state asks for (a page, or the component list), one at a time; the function returned cancels it. */
function usePageReads(state: PickerState, dispatch: (action: PickerAction) => void, backend: TuiBackend, file: string): () => void {
  const read = useRef<AbortController | undefined>(undefined);
  const { loading, level, offset, filter } = state;
  useEffect(() => {
    if (!loading) return;
    const controller = new AbortController();
    read.current = controller;
    const request = pageRequest({ ...state, level, offset, filter });
    const task: Promise<PickerAction> = request
      ? backend.browse(file, request, controller.signal).then((page) => ({ type: 'page-loaded', page }))
      : backend.browsable(file).then((components) => ({ type: 'components-loaded', components }));
    task.then(
      (action) => controller.signal.aborted || dispatch(action),
      (error: unknown) => controller.signal.aborted || dispatch({ type: 'read-failed', message: describeError(error) }),
    );
    return () => controller.abort(new AbortedError('the picker moved on'));
  }, [loading, level, offset, filter, file, backend]);
  return () => read.current?.abort(new AbortedError('reading cancelled by the operator'));
}

/** A key while the filter is typed: Enter applies it, Esc drops it. */
function filterKey(input: string, key: Key): PickerAction {
  if (key.return) return { type: 'filter-applied' };
  if (key.escape) return { type: 'filter-dropped' };
  if (key.backspace || key.delete) return { type: 'filter-erased' };
  return { type: 'filter-typed', text: key.ctrl || key.meta || key.upArrow || key.downArrow ? '' : input };
}

function moveKey(input: string, key: Key): PickerAction | undefined {
  if (key.upArrow || input === 'k') return { type: 'move', by: -1 };
  if (key.downArrow || input === 'j') return { type: 'move', by: 1 };
  if (key.rightArrow || input === 'l') return { type: 'open' };
  if (key.leftArrow || input === 'h') return { type: 'up' };
  if (input === ' ') return { type: 'toggle' };
  if (input === '/') return { type: 'filter-start' };
  return undefined;
}

function PickerHeader({ name, state }: { name: string; state: PickerState }) {
  return (
    <>
      <Text bold>Pick what to restore from {name}</Text>
      <Text dimColor>{where(state)}</Text>
      {state.typing || state.filter ? (
        <Text>
          filter: <Text color="cyan">{state.filter}</Text>
          {state.typing ? <Text inverse> </Text> : null}
        </Text>
      ) : null}
    </>
  );
}

/** Lines the picker's header, messages and help take besides the rows. */
const PICKER_CHROME_LINES = 14;

/** The rows that fit the terminal, around the cursor: a page of 50 is taller than most terminals. */
function VisibleRows({ rows, cursor }: { rows: PickerRow[]; cursor: number }) {
  const { stdout } = useStdout();
  const height = Math.max(5, ((stdout as NodeJS.WriteStream).rows || 40) - PICKER_CHROME_LINES);
  const start = Math.max(0, Math.min(cursor - Math.floor(height / 2), rows.length - height));
  const shown = rows.slice(start, start + height);
  const below = rows.length - start - shown.length;
  return (
    <>
      {start > 0 ? <Text dimColor> ↑ {start} more above</Text> : null}
      {shown.map((row, index) => (
        <Row key={start + index} row={row} current={start + index === cursor} />
      ))}
      {below > 0 ? <Text dimColor> ↓ {below} more below</Text> : null}
    </>
  );
}

function Row({ row, current }: { row: PickerRow; current: boolean }) {
  const lead = current ? '› ' : '  ';
  const color = current ? 'cyan' : undefined;
  switch (row.kind) {
    case 'component':
      return (
        <Text color={color} dimColor={Boolean(row.component.unpickable)}>
          {lead}
          {row.component.name.padEnd(10)} {row.component.unpickable ?? row.component.title}
          {row.picked > 0 ? `  (${row.picked} picked)` : ''}
        </Text>
      );
    case 'group':
      return (
        <Text color={color}>
          {lead}
          {row.mark === 'all' ? '[x]' : row.mark === 'some' ? '[~]' : '[ ]'} {printableName(row.name)}
          {row.detail ? <Text dimColor>{`  ${printableName(row.detail)}`}</Text> : null}
        </Text>
      );
    case 'item':
      return (
        <Text color={color}>
          {lead}
          {row.picked ? '[x]' : '[ ]'} {printableName(row.name)}
          <Text dimColor>
            {'  '}
            {formatBytes(row.bytes)}
            {row.detail ? `  ${printableName(row.detail)}` : ''}
          </Text>
        </Text>
      );
    case 'previous':
      return <Text color={color}>{lead}‹ previous page</Text>;
    case 'more':
      return <Text color={color}>{lead}more… (the next page)</Text>;
  }
}

function where({ level, offset, page }: PickerState): string {
  if (level.kind === 'components') return 'Components of the archive';
  const shown = page ? page.groups.length + page.items.length : 0;
  const range = shown > 0 ? ` — ${offset + 1}–${offset + shown}${page?.more ? ', more after' : ''}` : '';
  return level.kind === 'groups' ? `${level.component}${range}` : `${level.component} › ${level.group}${range}`;
}

function pickedLine(picks: PicksByComponent): string {
  const counts = Object.entries(picks).filter(([, picked]) => picked.length > 0);
  if (counts.length === 0) return 'Picked: nothing yet';
  return `Picked: ${counts.map(([name, picked]) => `${name} ${picked.length}`).join(', ')}`;
}

/** What the picks become: the selectors of the component at hand (or of each), with what they do. */
function selectorHelp(state: PickerState): string {
  const { level } = state;
  const components = state.components ?? [];
  if (level.kind === 'components') {
    const flags = components.flatMap((component) => component.picking.map((selector) => `--${selector.flag}`));
    return `Picks become the restore's selectors (${[...new Set(flags)].join(', ')}): only what is picked is restored, everything else is left as it is.`;
  }
  const component = components.find((candidate) => candidate.name === level.component);
  const lines = (component?.picking ?? []).map((selector) => `--${selector.flag}: ${selector.help}`);
  return `Picks of ${level.component} become ${lines.join('; ')}.`;
}
