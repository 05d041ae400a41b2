import { Text } from 'ink';
import { useEffect, useState } from 'react';
import { formatBytes, formatDuration } from '../../base/format.js';
import { overallFigures, type OverallFigures, type OverallProgress } from '../../model/overallProgress.js';
import { bar } from './ProgressRows.js';

/** Often enough for the elapsed time to read as running, rarely enough to cost nothing. */
const TICK_MS = 500;

/**
 * The whole run above the per-component rows: a bar, the bytes done of the total, the time
 * since the screen opened (ticking even while no byte moves) and, once it can be measured, an ETA.
 */
export function OverallBar({ overall }: { overall: OverallProgress }) {
  const elapsedMs = useElapsedMs();
  const figures = overallFigures(overall, elapsedMs);
  return figures ? <OverallText text={overallLine(figures, elapsedMs)} /> : null;
}

/** The overall bar as the run left it, above a summary: no clock (the summary has the times). */
export function FinalOverallBar({ overall }: { overall: OverallProgress }) {
  const figures = overallFigures(overall, 0);
  return figures ? <OverallText text={overallLine(figures)} /> : null;
}

function OverallText({ text }: { text: string }) {
  return (
    <Text>
      {'  '}
      <Text bold>{'Overall'.padEnd(8)}</Text> {text}
    </Text>
  );
}

/**
 * "████░░ 37%  1.2 GB of 3.1 GB, 1 min 02 s, ETA 1 min 45 s"; "of ≥3.1 GB" while a part is not
 * sized yet (the total can still grow); "estimating the total…" until one size is known.
 */
export function overallLine(figures: OverallFigures, elapsedMs?: number): string {
  const clock = elapsedMs === undefined ? '' : `, ${formatDuration(elapsedMs)}`;
  if (figures.totalBytes === undefined || figures.percent === undefined) {
    return `estimating the total… ${formatBytes(figures.bytes)} so far${clock}`;
  }
  const fraction = figures.percent / 100;
  const total = `${figures.unsized > 0 ? '≥' : ''}${formatBytes(figures.totalBytes)}`;
  // Under a second left, an ETA says nothing the bar does not.
  const eta = figures.etaMs === undefined || figures.etaMs < 1_000 ? '' : `, ETA ${formatDuration(figures.etaMs)}`;
  return `${bar(fraction)} ${figures.percent}%  ${formatBytes(figures.bytes)} of ${total}${clock}${eta}`;
}

/** Time since the screen opened, read at each render; a timer renders it again while no event comes. */
function useElapsedMs(): number {
  const [started] = useState(() => Date.now());
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((tick) => tick + 1), TICK_MS);
    return () => clearInterval(timer);
  }, []);
  return Date.now() - started;
}
