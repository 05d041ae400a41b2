import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { AbortedError } from '../base/errors.js';
import { printable } from '../base/format.js';

/** The process's standard streams, and plain prompts for the non-TUI flow. */
export interface Terminal {
  readonly stdinIsTTY: boolean;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** Standard output as a byte stream: where `backup -o -` writes the archive. */
  readonly stdout: Writable;
  /** Standard input as a byte stream: where `verify -` reads the archive. */
  readonly stdin: Readable;
  /** Writes text for people; control characters in it (from archive names) are escaped. */
  out: (text: string) => void;
  err: (text: string) => void;
  /** Writes to stderr as is: the progress line's own redraw codes. */
  errRaw: (text: string) => void;
  /** Asks on stderr, reads one line from stdin. */
  ask: (question: string) => Promise<string>;
}

export function processTerminal(signal: AbortSignal): Terminal {
  return {
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    stdout: process.stdout,
    stdin: process.stdin,
    out: (text) => process.stdout.write(printable(text)),
    err: (text) => process.stderr.write(printable(text)),
    errRaw: (text) => process.stderr.write(text),
    async ask(question) {
      const prompt = createInterface({ input: process.stdin, output: process.stderr, terminal: Boolean(process.stdin.isTTY) });
      try {
        return await prompt.question(question, { signal });
      } catch (error) {
        if (signal.aborted) throw new AbortedError('interrupted at a prompt; nothing was changed.');
        throw error;
      } finally {
        prompt.close();
      }
    },
  };
}

export async function confirm(terminal: Terminal, question: string): Promise<boolean> {
  const answer = (await terminal.ask(`${question} [y/N] `)).trim().toLowerCase();
  return answer === 'y' || answer === 'yes';
}
