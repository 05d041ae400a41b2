import { Box, Text } from 'ink';
import { shellWord } from '../../base/format.js';
import type { SelectorValues } from '../backend.js';
import type { PickedSelection } from '../pickerState.js';
import { pendingBeside, type Screen } from '../screenState.js';
import { HelpLine } from '../widgets/HelpLine.js';
import { SelectList } from '../widgets/SelectList.js';
import { TextPrompt } from '../widgets/TextPrompt.js';

/** After the archive: all of it (or whole components), or items picked from it. */
export function RestoreHowScreen({ name, onChoose }: { name: string; onChoose: (pick: boolean) => void }) {
  return (
    <Box flexDirection="column">
      <Text bold>Restore {name}</Text>
      <Box marginTop={1}>
        <SelectList
          items={[
            { key: 'all', value: false, label: 'Restore everything — every component of the archive, or the ones you choose, whole' },
            {
              key: 'pick',
              value: true,
              label: 'Pick what to restore — collections, Redis keys, objects or files, listed from the archive',
            },
          ]}
          onSelect={onChoose}
        />
      </Box>
      <HelpLine keys="↑/↓ move · enter choose · esc back · q quit" />
    </Box>
  );
}

/** The picks in place of the live items, or beside them, to compare. */
export function RestorePlaceScreen({ picked, onChoose }: { picked: PickedSelection; onChoose: (beside: boolean) => void }) {
  const cannot = picked.besides.filter((entry) => entry.selector === undefined).map((entry) => entry.component);
  return (
    <Box flexDirection="column">
      <Text bold>Restore the picks of {Object.keys(picked.picks).join(', ')}</Text>
      <SelectionLines selectors={picked.selectors} notes={picked.notes} />
      <Box marginTop={1}>
        <SelectList
          items={[
            { key: 'in-place', value: false, label: 'In place — the picked items replace the live ones (what they replace is kept first)' },
            {
              key: 'beside',
              value: true,
              disabled: cannot.length > 0,
              label:
                cannot.length > 0
                  ? `Beside — ${cannot.join(', ')} cannot be restored beside`
                  : 'Beside — into another database, Redis database, bucket or folder, to compare; the live target is not touched',
            },
          ]}
          onSelect={onChoose}
        />
      </Box>
      <HelpLine keys="↑/↓ move · enter choose · esc back to the picks · q quit" />
    </Box>
  );
}

/** Where each picked component goes beside the live target: its beside selector's value, typed. */
export function BesideScreen({
  screen,
  onAnswer,
}: {
  screen: Extract<Screen, { kind: 'restore-beside' }>;
  onAnswer: (answer: string) => void;
}) {
  const next = pendingBeside(screen);
  if (!next?.selector) return null;
  const { selector, component } = next;
  return (
    <Box flexDirection="column">
      <Text bold>Restore the picks of {component} beside the live target</Text>
      <Text>
        --{selector.flag}: {selector.help}
      </Text>
      <Box marginTop={1}>
        {/* A new prompt for each component: what was typed for one does not carry over. */}
        <TextPrompt key={component} label={`--${selector.flag} ${selector.value ?? ''} for ${component}: `} onSubmit={onAnswer} />
      </Box>
      <HelpLine keys="type the target, then enter · esc back" />
    </Box>
  );
}

/** The selector values as they read on the command line (`--files '.env'`), and what they take besides the picks. */
export function SelectionLines({ selectors, notes = [] }: { selectors: SelectorValues; notes?: readonly string[] }) {
  return (
    <Box flexDirection="column">
      <Text>Selectors: {selectorText(selectors)}</Text>
      {notes.map((note) => (
        <Text key={note} color="yellow">
          {note}
        </Text>
      ))}
    </Box>
  );
}

export function selectorText(selectors: SelectorValues): string {
  return Object.entries(selectors)
    .flatMap(([flag, values]) => values.map((value) => `--${flag} ${shellWord(value)}`))
    .join(' ');
}
