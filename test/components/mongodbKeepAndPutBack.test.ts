import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { PreconditionError, RuntimeError } from '../../src/base/errors.js';
import { keepCurrentData, putBack } from '../../src/components/mongodb/putBack.js';
import type { ToolResult } from '../../src/mongo/toolOutput.js';
import type { MongoTools } from '../../src/mongo/tools.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

/**
 * The dump of the current data before --drop, and the put-back from it, with a tool that writes what the test says: the
 * file it goes to can fail before the dump is over, and whatever fails, nothing is left of it.
 */
function tools(run: (stdout: Writable) => Promise<ToolResult>): MongoTools {
  return {
    where: 'in okb-mongo',
    database: 'orkestra',
    label: 'okb-mongo',
    loginHint: 'Check the login. Nothing was touched.',
    reachHint: 'Check mongod.',
    run: (_tool, _args, io) => run(io!.stdout!),
    manual: (tool) => tool,
  };
}

const progress = { note: () => undefined, advance: () => undefined, expect: () => undefined };
const unhandled: unknown[] = [];
const recordUnhandled = (reason: unknown) => unhandled.push(reason);
process.on('unhandledRejection', recordUnhandled);
afterEach(() => {
  unhandled.length = 0;
});

/** Node reports a rejection nobody handled once the microtasks of the turn have run. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('keeping the current MongoDB data before --drop', () => {
  it('a kept file that cannot be written (the tool fails first): one error saying nothing was changed, no unhandled rejection', async () => {
    const folder = await temporaryFolder('okb-keep-');
    const aside = { pathFor: async (...segments: string[]) => join(folder, 'missing-folder', ...segments) };
    // As a dump whose output fails: the tool's run rejects once the file has failed.
    const failing = tools(
      (stdout) =>
        new Promise((_resolve, reject) => stdout.once('error', (error) => reject(new RuntimeError(`mongodump: ${error.message}`)))),
    );
    const kept = keepCurrentData(failing, aside, progress, new AbortController().signal);
    await expect(kept).rejects.toThrow(
      /^keeping the current database orkestra before --drop failed: mongodump: ENOENT.* — nothing was changed\.$/,
    );
    await nextTurn();
    expect(unhandled).toEqual([]);
  });

  it('a tool that fails at once while its kept file cannot be opened: no unhandled rejection, nothing was changed', async () => {
    const folder = await temporaryFolder('okb-keep-');
    const aside = { pathFor: async (...segments: string[]) => join(folder, 'missing-folder', ...segments) };
    const failing = tools(async () => {
      throw new RuntimeError('mongodump could not be started');
    });
    await expect(keepCurrentData(failing, aside, progress, new AbortController().signal)).rejects.toThrow(
      /mongodump could not be started — nothing was changed\./,
    );
    await nextTurn();
    await nextTurn();
    expect(unhandled).toEqual([]);
  });

  it('a dump that fails midway: the partial kept file is removed, the failure keeps its kind and hint', async () => {
    const folder = await temporaryFolder('okb-keep-');
    const aside = { pathFor: async (...segments: string[]) => join(folder, ...segments) };
    const refused = tools(async (stdout) => {
      await new Promise<void>((resolve) => stdout.write(Buffer.alloc(64 * 1024, 1), () => resolve()));
      return {
        exitCode: 1,
        stdout: '',
        stderr: '2026-12-04T23:00:00.000+0000\tFailed: error connecting to db server: connection refused\n',
      };
    });
    const error = (await keepCurrentData(refused, aside, progress, new AbortController().signal).catch(
      (failure: Error) => failure,
    )) as PreconditionError;
    expect(error).toBeInstanceOf(PreconditionError);
    expect(error.message).toMatch(
      /^keeping the current database orkestra before --drop failed: mongodump could not connect to MongoDB in okb-mongo: .*connection refused — nothing was changed\.$/,
    );
    expect(error.hint).toBe('Check mongod.');
    expect(existsSync(join(folder, 'mongodb', 'okb-mongo-orkestra.archive.gz'))).toBe(false);
  });
});

describe('putting the previous MongoDB data back', () => {
  it('a put-back whose mongorestore exits 0 but counts failed documents is said to have failed, with the kept file and the command', async () => {
    const folder = await temporaryFolder('okb-putback-');
    const kept = join(folder, 'okb-mongo-test.archive.gz');
    await writeFile(kept, gzipSync(readFileSync(new URL('../fixtures/mongodump/test.bar.archive', import.meta.url))));
    const partly = tools(async () => ({
      exitCode: 0,
      stdout: '',
      stderr:
        '2026-12-04T23:00:00.000+0000\tcontinuing through error: E11000 duplicate key error collection: test.bar\n' +
        '2026-12-04T23:00:00.000+0000\t0 document(s) restored successfully. 1 document(s) failed to restore.\n',
    }));
    const collections = { how: 'in a test', list: async () => [], drop: async () => undefined };
    const work = { tools: { ...partly, database: 'test' }, collections, kept, restored: ['bar'], progress };
    const error = await putBack(work, 'mongorestore exited with code 1', false).catch((failure: RuntimeError) => failure);
    expect(error.message).toMatch(
      /^mongorestore exited with code 1 — putting the previous data back failed too: 1 document failed to restore: continuing through error: E11000 duplicate key error collection: test\.bar\.$/,
    );
    expect(error.hint).toBe(`It is kept in ${kept}; put it back with: mongorestore < ${kept}`);
  });
});
