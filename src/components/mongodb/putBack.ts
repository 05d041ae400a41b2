import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { AbortedError, OrkestraError, PreconditionError, RuntimeError } from '../../base/errors.js';
import { plural, withoutFinalPeriod } from '../../base/format.js';
import type { ProgressReporter } from '../../model/progress.js';
import { critical } from '../../base/criticalSection.js';
import type { MoveAsideFolder } from '../../core/moveAside.js';
import type { ExecResult } from '../../docker/execSession.js';
import { preludeNamespaces } from '../../mongo/archivedDump.js';
import type { MongoCollections } from '../../mongo/collections.js';
import { lastLines, restoreCounts, toolFailure } from '../../mongo/toolOutput.js';
import type { MongoTools } from '../../mongo/tools.js';
import { exactNamespace } from '../../mongo/remap.js';

/** What a put-back needs: where the data is kept, and what the failed restore may have created. */
export interface PutBack {
  readonly tools: MongoTools;
  readonly collections: Pick<MongoCollections, 'drop'>;
  /** The dump of the target database taken just before --drop. */
  readonly kept: string;
  /** The collections of the target database the archive restores (and so may have created). */
  readonly restored: readonly string[];
  readonly progress: ProgressReporter;
  /** A selective restore kept only these collections: only they go back. */
  readonly only?: readonly string[];
}

/**
 * Streams a mongodump of the target database into the restore's move-aside folder before
 * `--drop` replaces it: the same rule as every other component, nothing is lost. When it fails
 * (the tool, or the file: no space left, no permission), the partial file is removed and the
 * error says that nothing was changed. A selective restore keeps only what it drops: the
 * collections of `excluded` are left out of the dump.
 */
export async function keepCurrentData(
  tools: MongoTools,
  aside: Pick<MoveAsideFolder, 'pathFor'>,
  progress: Pick<ProgressReporter, 'note'>,
  signal: AbortSignal,
  excluded: readonly string[] = [],
): Promise<string> {
  const path = await aside.pathFor('mongodb', `${tools.label}-${tools.database}.archive.gz`);
  const what = excluded.length > 0 ? `the selected collections of database ${tools.database}` : `the current database ${tools.database}`;
  progress.note(`keeping ${what} in ${basename(dirname(dirname(path)))}/mongodb/`);
  const file = createWriteStream(path, { mode: 0o600 });
  // Settles, never rejects: the file can fail before the dump is over, while nothing awaits it yet.
  const written = new Promise<Error | undefined>((resolve) => file.on('close', () => resolve(undefined)).on('error', resolve));
  try {
    const exclusions = excluded.map((name) => `--excludeCollection=${name}`);
    const result = await tools.run('mongodump', [`--db=${tools.database}`, '--archive', '--gzip', ...exclusions], { stdout: file, signal });
    if (result.exitCode !== 0) throw toolFailure('mongodump', result, tools);
    const failed = await written;
    if (failed) throw failed;
    return path;
  } catch (error) {
    file.destroy();
    await written;
    await rm(path, { force: true });
    throw notKept(error, tools.database);
  }
}

/** The dump before --drop failed: nothing was changed, and the error keeps its kind (exit code) and hint. */
function notKept(error: unknown, database: string): OrkestraError {
  const reason = withoutFinalPeriod(error instanceof Error ? error.message : String(error));
  const message = `keeping the current database ${database} before --drop failed: ${reason} — nothing was changed.`;
  if (error instanceof AbortedError) return new AbortedError(message, { signal: error.signal });
  const hint = error instanceof OrkestraError ? error.hint : undefined;
  return error instanceof PreconditionError ? new PreconditionError(message, { hint }) : new RuntimeError(message, { hint });
}

/**
 * mongorestore failed or was interrupted after --drop: the database goes back to what it held,
 * namespace for namespace. The collections the failed run created are dropped (--drop replaces
 * only what the kept dump holds), then the kept dump goes back in. Runs to the end even when the
 * operator interrupts; when it fails too, the error names the file and the commands that finish it by hand.
 */
export async function putBack(work: PutBack, why: string, interrupted: boolean): Promise<never> {
  const { tools, collections, kept, progress, only } = work;
  progress.note(`mongorestore did not finish; putting the previous data of ${tools.database} back from ${kept}`);
  const included = only
    ? only.flatMap((name) => [name, `system.buckets.${name}`]).map((name) => `--nsInclude=${exactNamespace(`${tools.database}.${name}`)}`)
    : [`--nsInclude=${tools.database}.*`];
  const args = ['--drop', '--archive', '--gzip', ...included];
  const previous = only
    ? `the kept copy of the selected collections of database ${tools.database} was`
    : `the previous data of database ${tools.database} was`;
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
  const counts = restoreCounts(result.stderr);
  if (result.exitCode !== 0 || (counts && counts.failed > 0)) {
    const refused = result.exitCode === 0 && counts ? `${plural(counts.failed, 'document')} failed to restore: ` : '';
    throw new Failure(`${why} — putting the previous data back failed too: ${refused}${lastLines(result.stderr)}.`, {
      hint: `It is kept in ${kept}; put it back with: ${tools.manual('mongorestore', args)} < ${kept}`,
    });
  }
  if (dropped instanceof Error) {
    throw new Failure(
      `${why} — ${previous} put back from ${kept}, but the collections the failed` +
        ` restore created could not be dropped: ${dropped.message}.`,
      { hint: `Drop by hand the collections of ${tools.database} that are not in ${kept}.` },
    );
  }
  const removed = dropped.length > 0 ? ` (${dropped.join(', ')}, created by the failed restore, dropped)` : '';
  throw new Failure(`${why} — ${previous} put back from ${kept}${removed}.`);
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
