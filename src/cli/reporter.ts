import { PHASE_WORDS, type RunEvent } from '../model/events.js';
import { formatBytes, formatDuration, formatProgressAmount, formatRate, printable } from '../base/format.js';
import { foldOverall, NO_OVERALL, overallFigures, type OverallProgress } from '../model/overallProgress.js';

/** How often a non-terminal stderr gets a progress line during a long step. */
const LOG_PROGRESS_EVERY_MS = 10_000;

/**
 * Prints core events on stderr: one line per step. On a terminal the current step's progress
 * is redrawn in place; elsewhere (CI logs) a progress line appears every ten seconds, with no
 * control characters. With more than one part of work, a progress line ends with the run's
 * overall figure.
 */
export function createLineReporter(write: (text: string) => void, isTTY: boolean): (event: RunEvent) => void {
  let liveLine = false;
  const lastLogged = new Map<string, number>();
  const clearLive = () => {
    if (liveLine) write('\r\x1b[2K');
    liveLine = false;
  };
  const line = (text: string) => {
    clearLive();
    write(`${printable(text)}\n`);
  };
  let overall = NO_OVERALL;
  return (event) => {
    overall = foldOverall(overall, event);
    switch (event.type) {
      case 'step':
        line(event.message);
        break;
      case 'component-start':
        line(`${event.component}: ${PHASE_WORDS[event.phase]}`);
        lastLogged.set(event.component, Date.now());
        break;
      case 'component-progress': {
        const text = `${event.component}: ${progressText(event.bytes, event.totalBytes, event.elapsedMs)}${overallText(overall)}`;
        if (isTTY) {
          write(`\r\x1b[2K${text}`);
          liveLine = true;
        } else if (Date.now() - (lastLogged.get(event.component) ?? 0) >= LOG_PROGRESS_EVERY_MS) {
          line(text);
          lastLogged.set(event.component, Date.now());
        }
        break;
      }
      case 'component-note':
        line(`${event.component}: ${event.message}`);
        break;
      case 'component-done': {
        // A check reads the archive's content, not its file: say so, or it reads as a second size of one file.
        const moved = event.bytes > 0 ? `${formatBytes(event.bytes)}${event.phase === 'check' ? ' of content' : ''} in ` : '';
        const rate = event.bytes > 0 ? formatRate(event.bytes, event.elapsedMs) : '';
        const summary = event.summary ? ` — ${event.summary}` : '';
        line(`${event.component}: done, ${moved}${formatDuration(event.elapsedMs)}${rate ? ` (${rate})` : ''}${summary}`);
        break;
      }
      case 'component-failed':
        line(`${event.component}: FAILED — ${event.message}`);
        break;
      case 'work-planned':
        break;
    }
  };
}

function progressText(bytes: number, totalBytes: number | undefined, elapsedMs: number): string {
  const rate = formatRate(bytes, elapsedMs);
  return `${formatProgressAmount(bytes, totalBytes)}${rate ? `, ${rate}` : ''}, ${formatDuration(elapsedMs)}`;
}

/**
 * " · overall 45% of 1.2 GB" once a size is known and the run has more than one part; no ETA
 * here: a restore's bytes per second would count the time spent at its confirmation prompt.
 */
function overallText(overall: OverallProgress): string {
  const figures = overallFigures(overall, 0);
  if (overall.parts.length < 2 || figures?.percent === undefined || figures.totalBytes === undefined) return '';
  return ` · overall ${figures.percent}% of ${figures.unsized > 0 ? '≥' : ''}${formatBytes(figures.totalBytes)}`;
}
