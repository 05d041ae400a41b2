import { ToolOutput } from '../../mongo/toolOutput.js';

/** The lines a failure ping carries: enough to see what failed, small enough for any receiver. */
const TAIL_LINES = 20;
const TAIL_BYTES = 8 * 1024;

/**
 * The end of what a run printed on stderr (its report), kept as it is written, for the body of a
 * failure ping. Only the last few kilobytes are held, and secrets are masked when it is read.
 */
export class ReportTail {
  private readonly output: ToolOutput;

  constructor(secrets: readonly string[]) {
    this.output = new ToolOutput(TAIL_BYTES, secrets);
  }

  push(text: string): void {
    this.output.push(Buffer.from(text, 'utf8'));
  }

  /** The last lines as a reader of a log sees them: a line redrawn in place shows its last state, without terminal codes. */
  lines(): string {
    const lines = this.output
      .toString()
      // eslint-disable-next-line no-control-regex
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      .split('\n')
      .map((line) => line.slice(line.lastIndexOf('\r') + 1))
      .filter((line) => line.trim() !== '');
    return lines.slice(-TAIL_LINES).join('\n');
  }
}
