import { Box, Text, useInput } from 'ink';
import { useRef, useState, type ReactNode } from 'react';

export interface SelectItem<T> {
  key: string;
  value: T;
  label: ReactNode;
  disabled?: boolean;
}

/** A vertical menu: arrows or j/k move, Enter picks. Disabled items are shown but skipped. */
export function SelectList<T>({
  items,
  onSelect,
  isActive = true,
}: {
  items: SelectItem<T>[];
  onSelect: (value: T) => void;
  isActive?: boolean;
}) {
  const [cursor, setCursor] = useCursor(items);
  useInput(
    (input, key) => {
      if (key.upArrow || input === 'k') setCursor(step(items, cursor.current, -1));
      else if (key.downArrow || input === 'j') setCursor(step(items, cursor.current, 1));
      else if (key.return && items[cursor.current] && !items[cursor.current].disabled) onSelect(items[cursor.current].value);
    },
    { isActive },
  );
  return (
    <Box flexDirection="column">
      {items.map((item, index) => (
        <Text key={item.key} color={index === cursor.current ? 'cyan' : undefined} dimColor={item.disabled}>
          {index === cursor.current ? '› ' : '  '}
          {item.label}
        </Text>
      ))}
    </Box>
  );
}

/**
 * The highlighted row, kept in a ref as well as in state: keys that arrive together (a fast
 * typist, a terminal multiplexer) are handled before React re-renders, and must see each other.
 */
export function useCursor<T>(items: SelectItem<T>[]): [{ readonly current: number }, (next: number) => void] {
  const cursor = useRef(
    Math.max(
      0,
      items.findIndex((item) => !item.disabled),
    ),
  );
  const [, render] = useState(0);
  return [
    cursor,
    (next) => {
      cursor.current = next;
      render((count) => count + 1);
    },
  ];
}

export function step<T>(items: SelectItem<T>[], current: number, direction: 1 | -1): number {
  for (let next = current + direction; next >= 0 && next < items.length; next += direction) {
    if (!items[next].disabled) return next;
  }
  return current;
}
