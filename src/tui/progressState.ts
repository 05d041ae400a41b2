import type { Phase, RunEvent } from '../model/events.js';
import { foldOverall, NO_OVERALL, type OverallProgress } from '../model/overallProgress.js';

export type RowStatus = 'running' | 'done' | 'failed';

/** What the progress screen shows for one component (or the archive check). */
export interface ProgressRow {
  component: string;
  phase: Phase;
  status: RowStatus;
  bytes: number;
  totalBytes?: number;
  elapsedMs: number;
  notes: string[];
  summary?: string;
  message?: string;
}

export interface ProgressState {
  rows: ProgressRow[];
  steps: string[];
  /** Every component's bytes against the run's total, above the rows. */
  overall: OverallProgress;
}

export const EMPTY_PROGRESS: ProgressState = { rows: [], steps: [], overall: NO_OVERALL };

const NOTES_KEPT = 3;

/** Folds core events into the rows the TUI renders. Pure, so the screens stay simple. */
export function reduceProgress(state: ProgressState, event: RunEvent | { type: 'reset' }): ProgressState {
  if (event.type === 'reset') return EMPTY_PROGRESS;
  if (event.type === 'step') return { ...state, steps: [...state.steps, event.message] };
  const overall = foldOverall(state.overall, event);
  if (event.type === 'work-planned') return { ...state, overall };
  const existing = state.rows.find((row) => row.component === event.component);
  const row: ProgressRow = existing ?? {
    component: event.component,
    phase: 'backup',
    status: 'running',
    bytes: 0,
    elapsedMs: 0,
    notes: [],
  };
  let next: ProgressRow;
  switch (event.type) {
    case 'component-start':
      next = {
        ...row,
        phase: event.phase,
        status: 'running',
        bytes: 0,
        totalBytes: undefined,
        elapsedMs: 0,
        summary: undefined,
        message: undefined,
      };
      break;
    case 'component-progress':
      next = { ...row, bytes: event.bytes, totalBytes: event.totalBytes, elapsedMs: event.elapsedMs };
      break;
    case 'component-note':
      next = { ...row, notes: [...row.notes, event.message].slice(-NOTES_KEPT) };
      break;
    case 'component-done':
      next = { ...row, status: 'done', bytes: event.bytes, elapsedMs: event.elapsedMs, summary: event.summary };
      break;
    case 'component-failed':
      next = { ...row, status: 'failed', message: event.message };
      break;
  }
  const rows = existing ? state.rows.map((candidate) => (candidate === existing ? next : candidate)) : [...state.rows, next];
  return { ...state, rows, overall };
}
