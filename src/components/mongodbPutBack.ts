import { createReadStream } from 'node:fs';
import { constants } from 'node:os';
import { AbortedError, PreconditionError, RuntimeError } from '../base/errors.js';
import { plural } from '../base/format.js';
import type { ProgressReporter } from '../core/component.js';
import { critical } from '../core/criticalSection.js';
import type { ExecResult } from '../docker/execSession.js';
import { preludeNamespaces } from '../mongo/archivedDump.js';
import type { MongoCollections } from '../mongo/collections.js';
import type { MongoTools } from '../mongo/tools.js';

/** What a put-back needs: where the data is kept, and what the failed restore may have created. */
export interface PutBack {
  readonly tools: MongoTools;
  readonly collections: MongoCollections;
  /** The dump of the target database taken just before --drop. */
  readonly kept: string;
  /** The collections of the target database the archive restores (and so may have created). */
  readonly restored: readonly string[];
  readonly progress: ProgressReporter;
}

/**
 * mongorestore failed or was interrupted after --drop: the database goes back to what it held,
 * namespace for namespace. The collections the failed run created are dropped (--drop replaces
 * only what the kept dump holds), then the kept dump goes back in. Runs to the end even when the
 * operator interrupts; when it fails too, the error names the file and the commands that finish it by hand.
 */
export async function putBack(work: PutBack, why: string, interrupted: boolean): Promise<never> {
  const { tools, collections, kept, progress } = work;
  progress.note(`mongorestore did not finish; putting the previous data of ${tools.database} back from ${kept}`);
  const args = ['--drop', '--archive', '--gzip', `--nsInclude=${tools.database}.*`];
  const outcome = await critical(`putting MongoDB's previous data back`, async () => {
    const created = await createdCollections(work).catch((error: Error) => error);
    const dropped =
      created instanceof Error
        ? created
        : await collections.drop(tools.database, created).then(
            () => created,
            (error: Error) => error,
          );
    const result = await tools
      .run('mongorestore', args, { stdin: createReadStream(kept) })
      .catch((error: Error): ExecResult => ({ exitCode: -1, stderr: error.message, stdout: '' }));
    return { dropped, result };
  });
  const Failure = interrupted ? AbortedError : RuntimeError;
  const { dropped, result } = outcome;
  if (result.exitCode !== 0) {
    throw new Failure(`${why} — putting the previous data back failed too: ${lastLines(result.stderr)}.`, {
      hint: `It is kept in ${kept}; put it back with: ${tools.manual('mongorestore', args)} < ${kept}`,
    });
  }
  if (dropped instanceof Error) {
    throw new Failure(
      `${why} — the previous data of database ${tools.database} was put back from ${kept}, but the collections the failed` +
        ` restore created could not be dropped: ${dropped.message}.`,
      { hint: `Drop by hand the collections of ${tools.database} that are not in ${kept}.` },
    );
  }
  const removed = dropped.length > 0 ? ` (${dropped.join(', ')}, created by the failed restore, dropped)` : '';
  throw new Failure(`${why} — the previous data of database ${tools.database} was put back from ${kept}${removed}.`);
}

/**
 * The collections the archive restores that the kept dump does not hold. A time-series
 * collection counts by its own name: its buckets go with it.
 */
async function createdCollections(work: PutBack): Promise<string[]> {
  const prefix = `${work.tools.database}.`;
  const before = new Set(
    (await preludeNamespaces(work.kept))
      .filter((name) => name.startsWith(prefix))
      .map((name) => ownerCollection(name.slice(prefix.length))),
  );
  return [...new Set(work.restored.map(ownerCollection))].filter((name) => !before.has(name) && !name.startsWith('system.'));
}

/** The collection a namespace belongs to: a time-series collection's buckets belong to it. */
export function ownerCollection(collection: string): string {
  return collection.startsWith('system.buckets.') ? collection.slice('system.buckets.'.length) : collection;
}

/** How a tool ended, in words: "exited with code 1", "was killed by SIGKILL" (an exit code of 128 + the signal's number). */
export function howItEnded(exitCode: number): string {
  const signal = exitCode > 128 ? Object.entries(constants.signals).find(([, number]) => number === exitCode - 128)?.[0] : undefined;
  return signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
}

export function toolFailure(tool: string, result: ExecResult, tools: MongoTools): PreconditionError | RuntimeError {
  const restored = documentsRestored(result.stderr);
  if (restored && serverUnreachable(result.stderr)) {
    return new RuntimeError(
      `${tool} stopped: the MongoDB server ${tools.where} went away after ${plural(restored, 'document')}: ${lastLines(result.stderr, 1)}`,
      { hint: tools.reachHint },
    );
  }
  const after = restored ? ` after ${plural(restored, 'document')}` : '';
  return (
    connectionFailure(tool, result, tools) ??
    new RuntimeError(`${tool} ${howItEnded(result.exitCode)}${after}: ${lastLines(result.stderr) || 'no error output'}`)
  );
}

/**
 * The tools connect before they read or write any data: a refused connection or a failed
 * login says nothing about the archive, and names what to fix instead.
 */
export function connectionFailure(tool: string, result: ExecResult, tools: MongoTools): PreconditionError | undefined {
  const detail = lastLines(result.stderr, 1);
  if (/AuthenticationFailed|Authentication failed|auth error|unable to authenticate/i.test(result.stderr)) {
    const user = tools.username ? ` as ${tools.username}` : '';
    return new PreconditionError(`${tool} could not log in to MongoDB ${tools.where}${user}: ${detail}`, { hint: tools.loginHint });
  }
  if (serverUnreachable(result.stderr)) {
    return new PreconditionError(`${tool} could not connect to MongoDB ${tools.where}: ${detail}`, { hint: tools.reachHint });
  }
  return undefined;
}

function serverUnreachable(stderr: string): boolean {
  return /error connecting to (host|db server)|server selection (error|timeout)|connection refused|no reachable servers/i.test(stderr);
}

const SUMMARY = /(\d+) document\(s\) restored successfully\. (\d+) document\(s\) failed to restore/;

/** The documents mongorestore's summary line counts as restored (0 without one). */
function documentsRestored(stderr: string): number {
  return Number(SUMMARY.exec(stderr)?.[1] ?? 0);
}

/**
 * The last meaningful lines of a tool's stderr, joined on one line for the operator; the count
 * summary is left out (a failure names its count in words).
 */
export function lastLines(stderr: string, count = 2): string {
  return stderr
    .trim()
    .split('\n')
    .map((line) => line.replace(/^\S+T\S+\s+/, '').trim())
    .filter((line) => line && !SUMMARY.test(line))
    .slice(-count)
    .join(' / ');
}
