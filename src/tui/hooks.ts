import { useCallback, useMemo, useRef, useState } from 'react';
import type { OverwritePolicy } from '../core/component.js';
import { AbortedError, describeError } from '../base/errors.js';
import type { ScreenAction, Screen } from './screenState.js';

export interface PendingQuestion {
  text: string;
  answer: (yes: boolean) => void;
}

export interface CancellableWork {
  /** Runs core work; its result becomes an action, its failure a message (with `back` to return to). */
  run<T>(task: (signal: AbortSignal) => Promise<T>, done: (value: T) => ScreenAction, back?: Screen): Promise<void>;
  /** Cancels the running work (it unwinds, then the interface leaves); without work, leaves at once. */
  cancel(): void;
  busy(): boolean;
}

/**
 * Core work started from a screen, one at a time and cancellable: ctrl-c or q aborts it, the
 * core undoes its partial work, and the interface then leaves with exit code 1.
 */
export function useCancellableWork(
  dispatch: (action: ScreenAction | { type: 'reset-progress' }) => void,
  leave: (code?: number) => void,
): CancellableWork {
  const work = useRef<AbortController | undefined>(undefined);
  const run = useCallback(
    async <T>(task: (signal: AbortSignal) => Promise<T>, done: (value: T) => ScreenAction, back?: Screen) => {
      const controller = new AbortController();
      work.current = controller;
      dispatch({ type: 'reset-progress' });
      try {
        const value = await task(controller.signal);
        if (!controller.signal.aborted) dispatch(done(value));
        else leave(1);
      } catch (error) {
        if (controller.signal.aborted) leave(1);
        else dispatch({ type: 'work-failed', message: describeError(error), back });
      } finally {
        work.current = undefined;
      }
    },
    [dispatch, leave],
  );
  const cancel = useCallback(() => {
    if (!work.current) return leave(1);
    work.current.abort(new AbortedError('cancelled by the operator'));
    dispatch({ type: 'cancelling' });
  }, [dispatch, leave]);
  return useMemo(() => ({ run, cancel, busy: () => work.current !== undefined }), [run, cancel]);
}

/** The restore's "replace this file?" question, asked on the running screen and answered with y or n. */
export function useOverwriteQuestion(): { question: PendingQuestion | undefined; overwrite: OverwritePolicy } {
  const [question, setQuestion] = useState<PendingQuestion>();
  const overwrite = useMemo<OverwritePolicy>(
    () => ({
      mode: 'ask',
      confirm: (text) =>
        new Promise((answer) =>
          setQuestion({
            text,
            answer: (yes) => {
              setQuestion(undefined);
              answer(yes);
            },
          }),
        ),
    }),
    [],
  );
  return { question, overwrite };
}
