import { Text, useInput } from 'ink';
import { useRef, useState } from 'react';

/** One line of typed input; Enter submits what was typed. */
export function TextPrompt({ label, onSubmit }: { label: string; onSubmit: (value: string) => void }) {
  // A ref, so that characters and the Enter typed in one burst all count.
  const value = useRef('');
  const [, render] = useState(0);
  const setValue = (next: string) => {
    value.current = next;
    render((count) => count + 1);
  };
  useInput((input, key) => {
    if (key.return) onSubmit(value.current);
    else if (key.backspace || key.delete) setValue(value.current.slice(0, -1));
    else if (!key.ctrl && !key.meta && !key.escape && input && !key.upArrow && !key.downArrow) typed(input);
  });
  // A paste or a fast typist delivers "restore\r" as one input: the text counts, then the Enter.
  const typed = (input: string) => {
    const [first, ...rest] = input.split(/\r\n|\r|\n/);
    setValue(value.current + first);
    if (rest.length > 0) onSubmit(value.current);
  };
  return (
    <Text>
      {label}
      <Text color="cyan">{value.current}</Text>
      <Text inverse> </Text>
    </Text>
  );
}
