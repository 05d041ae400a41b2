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
  const eta = figures.etaMs === undefined ? '' : `, ETA ${formatDuration(figures.etaMs)}`;
  return `${bar(fraction)} ${figures.percent}%  ${formatBytes(figures.bytes)} of ${total}${clock}${eta}`;
}

function useElapsedMs(): number {
  const [started] = useState(() => Date.now());
  const [now, setNow] = useState(started);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), TICK_MS);
    return () => clearInterval(timer);
  }, []);
  return now - started;
}
