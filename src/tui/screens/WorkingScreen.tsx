import { Box, Text, useInput } from 'ink';
import type { ProgressState } from '../progressState.js';
import type { PendingQuestion } from '../hooks.js';
import { HelpLine } from '../widgets/HelpLine.js';
import { OverallBar } from '../widgets/OverallBar.js';
import { ProgressRows } from '../widgets/ProgressRows.js';

/** Work in progress: the overall bar, a row per component, the latest step, and a question when a restore asks one. */
export function WorkingScreen({ title, progress, question }: { title: string; progress: ProgressState; question?: PendingQuestion }) {
  return (
    <Box flexDirection="column">
      <Working title={title} progress={progress} />
      {question ? <Question question={question} /> : null}
    </Box>
  );
}

function Working({ title, progress }: { title: string; progress: ProgressState }) {
  return (
    <Box flexDirection="column">
      <Text bold>{title}</Text>
      <Box marginTop={1} flexDirection="column">
        <OverallBar overall={progress.overall} />
        <ProgressRows rows={progress.rows} />
      </Box>
      {progress.steps.slice(-1).map((step) => (
        <Text key={step} dimColor>
          {step}
        </Text>
      ))}
      <HelpLine keys="ctrl-c or q cancel (partial work is undone)" />
    </Box>
  );
}

function Question({ question }: { question: PendingQuestion }) {
  useInput((input) => {
    if (input === 'y') question.answer(true);
    else if (input === 'n' || input === 'q') question.answer(false);
  });
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text color="yellow">{question.text}</Text>
      <Text dimColor>y replace (the current file is kept aside) · n keep the current file</Text>
    </Box>
  );
}
