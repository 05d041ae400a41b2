import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import { PreconditionError, RuntimeError } from '../base/errors.js';
import { formatBytes } from '../base/format.js';
import { redisGlobMatches } from './keyGlob.js';
import { shownKey, walkRdb } from './rdbKeys.js';
import { digest, matchingNow } from './liveKeys.js';
import type { RdbBytes } from './rdbReader.js';
import { Pipeline } from './pipeline.js';
import { DUMP_TRAILER_BYTES } from './dumpPayload.js';
import type { SelectedRdb } from './selectedRdb.js';
import { encodeCommand, RespConnection, RespError, type RedisAddress, type RespReply } from './resp.js';

/** The keys a selective restore picks: by glob and database, put back into their own database or another. */
export interface KeySelection {
  /** Redis globs; empty: every key. */
  readonly globs: readonly string[];
  /** The archive's database they are picked from; undefined: every database. */
  readonly db?: number;
  /** Where they are restored (a beside-restore); undefined: into the database they come from. */
  readonly toDb?: number;
  /** Keys matching now in the target but absent from the archive are kept, then deleted. */
  readonly deleteMissing: boolean;
}

/** The database a key of the archive's database `db` is restored into, or undefined when the selection leaves it out. */
export function targetOf(selection: KeySelection, db: number, key: Buffer): number | undefined {
  return targetsOf(selection)(db, key);
}

/** `targetOf` for one selection, its globs turned into bytes once (a walk asks it of every key of the archive). */
export function targetsOf(selection: KeySelection): (db: number, key: Buffer) => number | undefined {
  const patterns = selection.globs.map((glob) => Buffer.from(glob));
  return (db, key) => {
    if (selection.db !== undefined && db !== selection.db) return undefined;
    if (patterns.length > 0 && !patterns.some((pattern) => redisGlobMatches(pattern, key))) return undefined;
    return selection.toDb ?? db;
  };
}

/** The selection's keys of the archive, as 20-byte digests per target database: what "absent from the archive" is measured against. */
export type ArchivedKeys = Map<number, Set<string>>;

/** What `keepSelected` kept: the put-back file, and the keys to delete (deleteMissing). */
export interface KeptKeys {
  /** Records in the file, in the order the restore changes their keys: the selected keys of the archive, then the keys to delete. */
  readonly records: number;
  /** Of the archive's selected keys, how many existed (their values are kept; the others are deleted on a put-back). */
  readonly existed: number;
  readonly toDelete: readonly { db: number; key: Buffer }[];
  /** Selected keys of the archive whose expiry had passed: left out. */
  readonly expired: number;
}

/**
 * Keeps, before any change, the current state of every key a selective restore changes, as a
 * file of RESP commands that puts it back (`redis-cli --pipe` replays it too): for each selected
 * key of the archive in the order the restore meets it, `RESTORE key ttl payload REPLACE ABSTTL`
 * of its DUMP when it exists or `DEL key` when it does not; then, with deleteMissing, the same
 * for every key matching now that the archive's selection lacks. The file is written as the
 * replies come (0600), never held; a kept value longer than the server's proto-max-bulk-len
 * could not be put back and is refused before any change. A partial file is removed.
 */
export async function keepSelected(
  address: RedisAddress,
  rdb: RdbBytes,
  selection: KeySelection,
  { now, path, maxBulk, signal, spool }: { now: number; path: string; maxBulk: number; signal: AbortSignal; spool?: SelectedRdb },
): Promise<KeptKeys> {
  const file = createWriteStream(path, { mode: 0o600 });
  // Replies still arriving after a failure meet a destroyed file: its errors are this run's, never unhandled.
  let fileError: Error | undefined;
  file.on('error', (error) => (fileError ??= error));
  const connection = await RespConnection.open(address);
  let records = 0;
  let existed = 0;
  let expired = 0;
  const toDelete: { db: number; key: Buffer }[] = [];
  try {
    const pipe = new Pipeline(connection);
    const keys: ArchivedKeys = new Map();
    let current = -1;
    const keep = async (db: number, key: Buffer) => {
      if (db !== current) {
        // In turn with the records of the replies still awaited.
        pipe.after(() => write(file, encodeCommand(['SELECT', String(db)])));
        current = db;
      }
      await pipe.select(db);
      let ttl: RespReply = null;
      pipe.sendNow(['PTTL', key], (reply) => (ttl = reply));
      await pipe.send(['DUMP', key], async (payload) => {
        const record = putBackRecord(address, key, ttl, payload, maxBulk);
        if (record[0] === 'RESTORE') existed += 1;
        await write(file, encodeCommand(record));
      });
      records += 1;
    };
    // With a spool, the selected keys' values are kept too (as the restore's walk keeps them), for the restore to read.
    const walk = spool ? { values: true, valueKeepUpTo: maxBulk - DUMP_TRAILER_BYTES } : { values: false };
    const targetOfKey = targetsOf(selection);
    // An interrupt is given as the next key, so the walk stops there rather than at the next selected one.
    const select = (db: number, key: Buffer) => signal.aborted || targetOfKey(db, key) !== undefined;
    for await (const entry of walkRdb(rdb, { keepKey: () => true, select, ...walk })) {
      if (signal.aborted) break;
      const target = targetOfKey(entry.db, entry.key!)!;
      if (entry.expiresAtMs !== undefined && entry.expiresAtMs <= now) {
        expired += 1;
        continue;
      }
      if (!keys.has(target)) keys.set(target, new Set());
      // Only --delete-missing asks which keys matching now the archive lacks.
      if (selection.deleteMissing) keys.get(target)!.add(digest(entry.key!));
      await keep(target, entry.key!);
      await spool?.add(entry);
    }
    await spool?.finish();
    if (selection.deleteMissing && !signal.aborted) {
      const globs = selection.globs.length > 0 ? selection.globs : ['*'];
      const targets = selection.toDb !== undefined ? [selection.toDb] : [...keys.keys()].sort((a, b) => a - b);
      for (const target of targets) {
        const absent: Buffer[] = [];
        await pipe.settle(0);
        for await (const { key, id } of matchingNow(connection, target, globs, () => undefined)) {
          if (!keys.get(target)?.has(id)) absent.push(key);
        }
        pipe.forget(); // matchingNow selected the database itself
        current = -1;
        for (const key of absent) {
          await keep(target, key);
          toDelete.push({ db: target, key });
        }
      }
    }
    await pipe.settle(0);
    file.end();
    await once(file, 'close');
    if (fileError) throw fileError;
    signal.throwIfAborted();
    return { records, existed, toDelete, expired };
  } catch (error) {
    file.destroy();
    await rm(path, { force: true });
    throw error;
  } finally {
    connection.close();
  }
}

/** The command that puts a key back as PTTL and DUMP found it: its RESTORE, or DEL when it did not exist. */
function putBackRecord(address: RedisAddress, key: Buffer, ttl: RespReply, payload: RespReply, maxBulk: number): (string | Buffer)[] {
  // A refusal (an ACL without DUMP) must not pass for a missing key: its put-back would delete it.
  const refused = [ttl, payload].find((reply) => reply instanceof RespError);
  if (refused instanceof RespError || (payload !== null && !Buffer.isBuffer(payload))) {
    const why = refused instanceof RespError ? refused.message : 'an unexpected answer';
    throw new PreconditionError(`Redis at ${address.shown} did not give the current value of ${shownKey(key)} (${why}).`, {
      hint: 'A selective restore keeps the current value of every key it changes first (DUMP and PTTL). Nothing was changed.',
    });
  }
  if (payload === null) return ['DEL', key];
  checkKeptLength(address, key, payload, maxBulk);
  const at = typeof ttl === 'number' && ttl > 0 ? Date.now() + ttl : 0;
  return ['RESTORE', key, String(at), payload, 'REPLACE', 'ABSTTL'];
}

function checkKeptLength(address: RedisAddress, key: Buffer, payload: Buffer, maxBulk: number): void {
  if (payload.length <= maxBulk && key.length <= maxBulk) return;
  throw new PreconditionError(
    `the current value of ${shownKey(key)} in Redis at ${address.shown} (${formatBytes(payload.length)}) is over its proto-max-bulk-len (${formatBytes(maxBulk)}): it could not be put back if the restore failed.`,
    { hint: "This is the live server's own data: raise its proto-max-bulk-len, or narrow the selection. Nothing was changed." },
  );
}

async function write(file: WriteStream, bytes: Buffer): Promise<void> {
  // A file destroyed by a failure is being removed: what still arrives is not kept.
  if (file.destroyed) return;
  if (!file.write(bytes)) await once(file, 'drain');
}

/** DELs the keys deleteMissing removes, pipelined; `onSent` is told each one sent (its put-back record follows the archive's). */
export async function deleteKeys(
  address: RedisAddress,
  keys: readonly { db: number; key: Buffer }[],
  onSent: () => void,
  signal: AbortSignal,
): Promise<void> {
  if (keys.length === 0) return;
  const connection = await RespConnection.open(address);
  try {
    const pipe = new Pipeline(connection);
    for (const { db, key } of keys) {
      if (signal.aborted) break;
      await pipe.select(db);
      await pipe.send(['DEL', key], (reply) => {
        if (reply instanceof RespError)
          throw new RuntimeError(`Redis at ${address.shown} refused the DEL of ${shownKey(key)}: ${reply.message}.`);
      });
      onSent();
    }
    await pipe.settle(0);
    signal.throwIfAborted();
  } finally {
    connection.close();
  }
}
