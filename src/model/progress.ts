import type { EventListener, Phase } from './events.js';
import { printable } from '../base/format.js';

/** How a component tells the operator what it is doing. Components never print. */
export interface ProgressReporter {
  /** Bytes moved since the last call. */
  advance(bytes: number): void;
  /** The total bytes this step will move, when known (shows a bar instead of a counter). */
  expect(totalBytes: number): void;
  /** A line worth reading: a remapping, a skipped file, a waiting snapshot. */
  note(message: string): void;
}

const REPORT_INTERVAL_MS = 200;

/** A component's progress reporter that turns its calls into throttled events. */
export class ComponentProgress implements ProgressReporter {
  private bytes = 0;
  private totalBytes: number | undefined;
  private lastReport = 0;
  private readonly started = Date.now();

  constructor(
    private readonly component: string,
    private readonly phase: Phase,
    private readonly emit: EventListener,
  ) {
    emit({ type: 'component-start', component, phase });
  }

  get bytesMoved(): number {
    return this.bytes;
  }

  get elapsedMs(): number {
    return Date.now() - this.started;
  }

  advance(bytes: number): void {
    this.bytes += bytes;
    const now = Date.now();
    if (now - this.lastReport >= REPORT_INTERVAL_MS) {
      this.lastReport = now;
      this.report();
    }
  }

  expect(totalBytes: number): void {
    this.totalBytes = totalBytes;
    this.report();
  }

  note(message: string): void {
    this.emit({ type: 'component-note', component: this.component, message: printable(message) });
  }

  done(summary?: string): void {
    this.emit({
      type: 'component-done',
      component: this.component,
      phase: this.phase,
      bytes: this.bytes,
      elapsedMs: this.elapsedMs,
      summary: summary === undefined ? undefined : printable(summary),
    });
  }

  failed(message: string): void {
    this.emit({ type: 'component-failed', component: this.component, phase: this.phase, message: printable(message) });
  }

  private report(): void {
    this.emit({
      type: 'component-progress',
      component: this.component,
      bytes: this.bytes,
      totalBytes: estimateStillValid(this.bytes, this.totalBytes),
      elapsedMs: this.elapsedMs,
    });
  }
}

/**
 * The size an estimate still describes: none once the bytes done exceed it (the estimate was
 * wrong), so no fraction over 100 % is ever shown. Every component-progress event comes from
 * ComponentProgress, so this one check serves the CLI line and the TUI bar alike.
 */
function estimateStillValid(bytes: number, totalBytes: number | undefined): number | undefined {
  return totalBytes !== undefined && totalBytes > 0 && bytes <= totalBytes ? totalBytes : undefined;
}

/** Content passed through unchanged, each chunk counted as progress on its way. */
export async function* countedAsProgress(
  content: AsyncIterable<Buffer>,
  progress: Pick<ProgressReporter, 'advance'>,
): AsyncGenerator<Buffer> {
  for await (const chunk of content) {
    progress.advance(chunk.length);
    yield chunk;
  }
}
