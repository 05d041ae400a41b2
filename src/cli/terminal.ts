import { createInterface } from 'node:readline/promises';
import { Writable, type Readable } from 'node:stream';
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
  /** Like `ask`, without echoing what is typed (a passphrase). */
  askSecret: (question: string) => Promise<string>;
}

export function processTerminal(signal: AbortSignal): Terminal {
  const question = async (text: string, output: Writable) => {
    const prompt = createInterface({ input: process.stdin, output, terminal: Boolean(process.stdin.isTTY) });
    try {
      return await prompt.question(text, { signal });
    } catch (error) {
      if (signal.aborted) throw new AbortedError('interrupted at a prompt; nothing was changed.');
      throw error;
    } finally {
      prompt.close();
    }
  };
  return {
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    stdout: process.stdout,
    stdin: process.stdin,
    out: (text) => process.stdout.write(printable(text)),
    err: (text) => process.stderr.write(printable(text)),
    errRaw: (text) => process.stderr.write(text),
    ask: (text) => question(text, process.stderr),
    async askSecret(text) {
      // readline echoes into its output: give it one that swallows, and print the prompt ourselves.
      process.stderr.write(text);
      try {
        return await question('', new Writable({ write: (_chunk, _encoding, done) => done() }));
      } finally {
        process.stderr.write('\n');
      }
    },
  };
}

export async function confirm(terminal: Terminal, question: string): Promise<boolean> {
  const answer = (await terminal.ask(`${question} [y/N] `)).trim().toLowerCase();
  return answer === 'y' || answer === 'yes';
}
