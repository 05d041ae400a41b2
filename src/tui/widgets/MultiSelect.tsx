import { Box, Text, useInput } from 'ink';
import { useRef, useState } from 'react';
import { step, useCursor, type SelectItem } from './SelectList.js';

/** A checklist: arrows or j/k move, space toggles, `a` toggles all, Enter confirms. */
export function MultiSelect({
  items,
  initiallySelected,
  onSubmit,
}: {
  items: SelectItem<string>[];
  initiallySelected: string[];
  onSubmit: (selected: string[]) => void;
}) {
  const [cursor, setCursor] = useCursor(items);
  const selected = useRef<Set<string>>(new Set(initiallySelected));
  const [, render] = useState(0);
  const [warning, setWarning] = useState<string>();
  const selectable = items.filter((item) => !item.disabled).map((item) => item.value);
  const setSelected = (next: Set<string>) => {
    selected.current = next;
    render((count) => count + 1);
  };
  useInput((input, key) => {
    const current = selected.current;
    if (key.upArrow || input === 'k') setCursor(step(items, cursor.current, -1));
    else if (key.downArrow || input === 'j') setCursor(step(items, cursor.current, 1));
    else if (input === ' ' && items[cursor.current] && !items[cursor.current].disabled) {
      const value = items[cursor.current].value;
      setSelected(toggled(current, [value], !current.has(value)));
    } else if (input === 'a') {
      setSelected(toggled(current, selectable, !selectable.every((value) => current.has(value))));
    } else if (key.return) {
      const chosen = items.map((item) => item.value).filter((value) => current.has(value));
      if (chosen.length === 0) setWarning('Select at least one (space toggles, a selects all).');
      else onSubmit(chosen);
    }
  });
  return (
    <Box flexDirection="column">
      {items.map((item, index) => (
        <Text key={item.key} color={index === cursor.current ? 'cyan' : undefined} dimColor={item.disabled}>
          {index === cursor.current ? '› ' : '  '}
          {item.disabled ? '[-]' : selected.current.has(item.value) ? '[x]' : '[ ]'} {item.label}
        </Text>
      ))}
      {warning ? <Text color="yellow">{warning}</Text> : null}
    </Box>
  );
}

function toggled(current: Set<string>, values: string[], on: boolean): Set<string> {
  const next = new Set(current);
  for (const value of values) {
    if (on) next.add(value);
    else next.delete(value);
  }
  return next;
}
