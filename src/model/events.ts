/** What the core reports while it works; the CLI prints it, the TUI renders it. */
export type Phase = 'check' | 'backup' | 'plan' | 'restore' | 'start' | 'prove';

/** How a phase reads in a status line ("mongodb: restoring"), the same in the CLI and the TUI. */
export const PHASE_WORDS: Readonly<Record<Phase, string>> = {
  check: 'checking',
  backup: 'backing up',
  plan: 'checking preconditions',
  restore: 'restoring',
  start: 'starting a throwaway copy',
  prove: 'checking the restored data',
};

/** Work that moves bytes, announced before it starts: a component in one phase, and its size when known up front. */
export interface PlannedWork {
  readonly component: string;
  readonly phase: Phase;
  readonly bytes?: number;
}

export type RunEvent =
  | { type: 'step'; message: string }
  /** What the run will move, so an overall figure can count what has not started yet. */
  | { type: 'work-planned'; work: readonly PlannedWork[] }
  | { type: 'component-start'; component: string; phase: Phase }
  | { type: 'component-progress'; component: string; bytes: number; totalBytes?: number; elapsedMs: number }
  | { type: 'component-note'; component: string; message: string }
  | { type: 'component-done'; component: string; phase: Phase; bytes: number; elapsedMs: number; summary?: string }
  | { type: 'component-failed'; component: string; phase: Phase; message: string };

export type EventListener = (event: RunEvent) => void;
