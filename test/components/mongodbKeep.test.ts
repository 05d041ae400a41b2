import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { PreconditionError, RuntimeError } from '../../src/base/errors.js';
import { keepCurrentData } from '../../src/components/mongodbPutBack.js';
import type { ToolResult } from '../../src/mongo/hostProgram.js';
import type { MongoTools } from '../../src/mongo/tools.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

/**
 * The dump of the current data before --drop, with a tool that writes what the test says: the
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

const progress = { note: () => undefined };
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
    const error = await keepCurrentData(refused, aside, progress, new AbortController().signal).catch((failure: Error) => failure);
    expect(error).toBeInstanceOf(PreconditionError);
    expect(error.message).toMatch(
      /^keeping the current database orkestra before --drop failed: mongodump could not connect to MongoDB in okb-mongo: .*connection refused — nothing was changed\.$/,
    );
    expect((error as PreconditionError).hint).toBe('Check mongod.');
    expect(existsSync(join(folder, 'mongodb', 'okb-mongo-orkestra.archive.gz'))).toBe(false);
  });
});
