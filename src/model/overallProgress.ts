import type { Phase, PlannedWork, RunEvent } from './events.js';

/**
 * Phases whose bytes the overall figure counts: the archive's check, a component's backup and
 * its restore. Planning, starting copies and proving read little and are not sized up front.
 */
const COUNTED_PHASES: ReadonlySet<Phase> = new Set<Phase>(['check', 'backup', 'restore']);

/** Below this much running time the bytes per second say too little for an ETA. */
const ETA_AFTER_MS = 2_000;

/** One component in one counted phase. */
export interface OverallPart {
  readonly component: string;
  readonly phase: Phase;
  /** The run's up-front figure (the archive's index), replaced by the component's own estimate when it gives one. */
  readonly expected?: number;
  readonly bytes: number;
  readonly state: 'planned' | 'running' | 'done' | 'failed';
}

export interface OverallProgress {
  readonly parts: readonly OverallPart[];
}

export const NO_OVERALL: OverallProgress = { parts: [] };

/** What the overall line shows at one moment. */
export interface OverallFigures {
  readonly bytes: number;
  /** Absent until one size is known ("estimating"). */
  readonly totalBytes?: number;
  /** Parts not sized yet: the total can still grow. */
  readonly unsized: number;
  /** 0–100, and 100 only once every part is done; absent while estimating. */
  readonly percent?: number;
  /** Absent until every part is sized and enough time has passed to measure a rate. */
  readonly etaMs?: number;
  readonly finished: boolean;
}

/** Folds one core event into the overall figure. Pure: the TUI's reducer and tests call it alike. */
export function foldOverall(overall: OverallProgress, event: RunEvent): OverallProgress {
  switch (event.type) {
    case 'work-planned':
      return event.work.filter((work) => COUNTED_PHASES.has(work.phase)).reduce(planned, overall);
    case 'component-start': {
      if (!COUNTED_PHASES.has(event.phase)) return overall;
      const fresh: OverallPart = { component: event.component, phase: event.phase, bytes: 0, state: 'running' };
      // A part that ran already runs again on other bytes (the check of a split backup's second archive): counted beside it.
      if (finishedPart(overall, event.component, event.phase)) return { parts: [...overall.parts, fresh] };
      return upsert(overall, event.component, event.phase, (part) => ({ ...part, bytes: 0, state: 'running' }));
    }
    case 'component-progress': {
      // Progress carries no phase: it belongs to the component's running part, if it has one.
      const running = overall.parts.find((part) => part.component === event.component && part.state === 'running');
      if (!running) return overall;
      return replace(overall, running, { ...running, bytes: event.bytes, expected: event.totalBytes ?? running.expected });
    }
    case 'component-done':
      if (!COUNTED_PHASES.has(event.phase)) return overall;
      return upsert(overall, event.component, event.phase, (part) => ({ ...part, bytes: event.bytes, state: 'done' }));
    case 'component-failed':
      if (!COUNTED_PHASES.has(event.phase)) return overall;
      return upsert(overall, event.component, event.phase, (part) => ({ ...part, state: 'failed' }));
    default:
      return overall;
  }
}

/**
 * Bytes done against the total: each done part counts what it moved, every other part the larger
 * of its expected size and what it has moved so far, so the bar never passes 100 % and reaches
 * it only once every part is done. The ETA comes from the bytes per second so far, once nothing
 * is left unsized.
 */
export function overallFigures(overall: OverallProgress, elapsedMs: number): OverallFigures | undefined {
  const { parts } = overall;
  if (parts.length === 0) return undefined;
  const bytes = sum(parts.map((part) => part.bytes));
  const sized = parts.filter((part) => part.state === 'done' || part.expected !== undefined);
  const unsized = parts.length - sized.length;
  const finished = parts.every((part) => part.state === 'done');
  if (sized.length === 0) return { bytes, unsized, finished };
  const totalBytes = sum(parts.map((part) => (part.state === 'done' ? part.bytes : Math.max(part.expected ?? 0, part.bytes))));
  const percent = finished ? 100 : Math.min(99, totalBytes === 0 ? 0 : Math.floor((100 * bytes) / totalBytes));
  const measurable = unsized === 0 && !finished && bytes > 0 && elapsedMs >= ETA_AFTER_MS;
  const failed = parts.some((part) => part.state === 'failed');
  const etaMs = measurable && !failed ? Math.round(((totalBytes - bytes) * elapsedMs) / bytes) : undefined;
  return { bytes, totalBytes, unsized, percent, etaMs, finished };
}

function planned(overall: OverallProgress, work: PlannedWork): OverallProgress {
  return upsert(overall, work.component, work.phase, (part) => ({ ...part, expected: work.bytes ?? part.expected }));
}

function finishedPart(overall: OverallProgress, component: string, phase: Phase): boolean {
  const parts = overall.parts.filter((part) => part.component === component && part.phase === phase);
  return parts.length > 0 && parts.every((part) => part.state === 'done' || part.state === 'failed');
}

/** Changes the part of this component and phase (its running one, when it ran before), or adds it. */
function upsert(overall: OverallProgress, component: string, phase: Phase, change: (part: OverallPart) => OverallPart): OverallProgress {
  const matching = overall.parts.filter((part) => part.component === component && part.phase === phase);
  const existing = matching.find((part) => part.state === 'running') ?? matching.at(0);
  if (existing) return replace(overall, existing, change(existing));
  return { parts: [...overall.parts, change({ component, phase, bytes: 0, state: 'planned' })] };
}

function replace(overall: OverallProgress, part: OverallPart, next: OverallPart): OverallProgress {
  return { parts: overall.parts.map((candidate) => (candidate === part ? next : candidate)) };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
