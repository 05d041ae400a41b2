import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortedError, PreconditionError, RuntimeError, UsageError } from '../base/errors.js';
import { formatBytes, plural, withoutFinalPeriod } from '../base/format.js';
import { DUMP_TRAILER_BYTES, dumpPayload } from './dumpPayload.js';
import { highestRdbVersion } from './rdb.js';
import { shownKey, walkRdb, type RdbEntry } from './rdbKeys.js';
import { MOST_STRING_BYTES } from './rdbReader.js';
import type { KeepUpTo } from './rdbWalk.js';
import { damage, surveyRdb } from './rdbSurvey.js';
import { RespConnection, RespError, type RedisAddress, type RespReply } from './resp.js';
import { checkBulkLengths, checkDatabases, databasesText, oversizedText, serverLimits } from './serverLimits.js';

/** Replies awaited at once while RESTORE commands stream to the server. */
const PIPELINE_WINDOW = 512;

/**
 * The server's RDB through the replication handshake, as `redis-cli --rdb` takes it: SYNC, then
 * `$<length>\r\n` and that many bytes (newlines before it are keepalives while the server saves).
 * No file access to the server is needed. The connection closes once the RDB has been read, or
 * when the content stream is dropped; a connection lost before the end fails the content.
 */
export async function replicaSnapshot(address: RedisAddress): Promise<{ size: number; content: Readable }> {
  const connection = await RespConnection.open(address);
  // Redis 7 sends only the RDB to a replica that says so (older ones answer an error, ignored).
  await connection.command('REPLCONF', 'rdb-only', '1');
  return new Promise((resolve, reject) => {
    let header = '';
    let remaining = -1;
    const content = new PassThrough({ highWaterMark: 1 << 20 });
    content.on('drain', () => connection.resume());
    content.on('close', () => connection.close());
    const refuse = (line: string) => {
      reject(
        new PreconditionError(`Redis at ${address.shown} refused SYNC (${line.replace(/^-/, '')}).`, {
          hint: 'Managed services often do: back up through the container instead (unset REDIS_URL and run on the Docker host).',
        }),
      );
      connection.close();
    };
    connection.onFailure((error) => {
      if (remaining === -2) return; // read whole
      if (remaining === -1) reject(error);
      else content.destroy(error);
    });
    connection.takeRaw((chunk) => {
      let offset = 0;
      while (remaining < 0 && offset < chunk.length) {
        const byte = chunk[offset++];
        if (header === '' && byte === 0x0a) continue; // keepalive while the server saves
        header += String.fromCharCode(byte);
        if (!header.endsWith('\r\n')) continue;
        if (header.startsWith('-')) return refuse(header.trim());
        if (!/^\$\d+\r\n$/.test(header)) return refuse(`an unexpected answer: ${header.trim().slice(0, 60)}`);
        remaining = Number(header.slice(1, -2));
        resolve({ size: remaining, content });
      }
      if (remaining < 0) return;
      const body = chunk.subarray(offset, offset + remaining);
      remaining -= body.length;
      if (body.length > 0 && !content.write(body)) connection.pause();
      if (remaining === 0) {
        remaining = -2;
        content.end();
        connection.close();
      }
    });
    connection.send(['SYNC']).catch(() => undefined); // answered by the raw stream above
  });
}

/** Keeps the server's current data as an RDB file (before an online restore replaces it); a partial file is removed. */
export async function keepSnapshot(address: RedisAddress, path: string, signal?: AbortSignal): Promise<void> {
  try {
    const { content } = await replicaSnapshot(address);
    await pipeline(content, createWriteStream(path, { mode: 0o600 }), { signal });
  } catch (error) {
    await rm(path, { force: true });
    if (signal?.aborted)
      throw new AbortedError(`interrupted while keeping the current data of Redis at ${address.shown}; nothing was changed.`);
    throw error;
  }
}

export interface OnlinePlan {
  readonly version: number;
  readonly keysPerDb: ReadonlyMap<number, number>;
  readonly serverVersion: string;
  /** The server's proto-max-bulk-len: the longest RESTORE it takes. */
  readonly maxBulk: number;
}

/**
 * Checks, reading the whole RDB, everything an online restore needs before its first change:
 * the file's CRC-64 and every record's lengths; that every key converts (each type Redis 7
 * writes; module data and the hash-field-expiry types of 7.4 cannot); that the server accepts
 * the RDB's version in a DUMP payload, has every database the RDB fills, and takes every RESTORE
 * within its proto-max-bulk-len (values are measured, never held). Throws before any change.
 * `onKey` is given every key as the survey meets it (a selection is counted in the same walk), with
 * its value when `keepValues` keeps it.
 */
export async function planOnlineRestore(
  address: RedisAddress,
  rdb: AsyncIterable<Buffer>,
  onKey?: (entry: RdbEntry) => void | Promise<void>,
  keepValues?: KeepUpTo,
): Promise<OnlinePlan> {
  const server = await serverLimits(address);
  const survey = await surveyRdb(rdb, server.maxBulk, onKey, keepValues);
  if (survey.damaged) throw survey.damaged;
  const damaged = damage(survey);
  if (damaged) {
    throw new UsageError(`the backup's ${damaged.replace(/^the /, '')}; an online restore does not load it.`, {
      hint: 'Run "orkestra-backup verify" on it, and restore a sound archive. Nothing was touched.',
    });
  }
  if (survey.unwalkable) {
    throw new PreconditionError(
      `the backup's RDB holds ${survey.unwalkable.message}, which an online restore cannot turn into RESTORE commands.`,
      { hint: 'Restore through the container instead (unset REDIS_URL). Nothing was touched.' },
    );
  }
  const version = survey.version!;
  const loads = highestRdbVersion(server.version);
  if (loads !== undefined && version > loads) {
    throw new PreconditionError(
      `the backup's RDB is version ${version}, newer than Redis ${server.version} at ${address.shown} accepts (up to ${loads}).`,
      { hint: 'Restore into a Redis at least as new as the one that made the backup. Nothing was touched.' },
    );
  }
  await checkDatabases(address, server, [...survey.keysPerDb.keys()]);
  checkBulkLengths(address, server, survey);
  return { version, keysPerDb: survey.keysPerDb, serverVersion: server.version, maxBulk: server.maxBulk };
}

/**
 * Checks, before the first change, that a kept snapshot of the server can be put back online:
 * its CRC-64 and records, no type a RESTORE cannot carry, and no value whose RESTORE is over the
 * server's proto-max-bulk-len (measured, never held). Otherwise a failed restore could not be undone.
 */
export async function checkKeptSnapshot(address: RedisAddress, kept: string, maxBulk: number): Promise<void> {
  const survey = await surveyRdb(createReadStream(kept), maxBulk);
  const { largest, count } = survey.oversized;
  const problem =
    damage(survey) ??
    survey.unwalkable?.message ??
    (largest && oversizedText(largest, count, `its proto-max-bulk-len (${formatBytes(maxBulk)})`));
  if (problem === undefined) return;
  throw new PreconditionError(
    `the current data of Redis at ${address.shown} could not be put back online if the restore failed (its snapshot: ${withoutFinalPeriod(problem)}).`,
    {
      hint: `This is the live server's own data, not the archive's: ${largest ? 'raise its proto-max-bulk-len, or ' : ''}restore through the container instead (unset REDIS_URL). Nothing was changed.`,
    },
  );
}

export interface OnlineRestoreOptions {
  /** Stops the restore between two keys, once the RESTOREs sent are answered (the caller puts the previous data back). */
  readonly signal?: AbortSignal;
  /** Restores only the keys of these databases (a put-back: the others were never changed). */
  readonly onlyDatabases?: readonly number[];
  /** The server's proto-max-bulk-len: no value longer than it is held (default MOST_STRING_BYTES). */
  readonly maxBulk?: number;
  /** Called just before the first FLUSHDB (or, with none, the first RESTORE) is sent: from then on the server's data is being changed. */
  readonly onFirstChange?: () => void;
  /** Which keys are restored, and into which database (a selective restore); undefined: the key is left out. Default: every key, into its own database. */
  readonly select?: (db: number, key: Buffer) => number | undefined;
  /** The moment expiries are judged against (default: as each key is met), so two walks of one RDB pick the same keys. */
  readonly now?: number;
}

/** A RESTORE the server refused: `index` is its place among the RESTOREs sent (0 for the first). */
export class RestoreRefused extends RuntimeError {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
  }
}

/**
 * Restores an RDB online: FLUSHDB in each of `databases`, then every key (that `select` picks) with
 * `RESTORE key ttl payload REPLACE ABSTTL` (a DUMP payload is the RDB value encoding, the RDB
 * version and a CRC-64), pipelined. Keys whose expiry has passed are not restored. The server
 * keeps running. A lost connection, a server that answers nothing for its idle limit (the
 * connection is then given up), a refused RESTORE or the signal ends it with an error; on the
 * signal, no more is sent and the RESTOREs already sent are awaited first, so none is still
 * running when the caller puts the previous data back.
 */
export async function restoreOnline(
  address: RedisAddress,
  rdb: AsyncIterable<Buffer>,
  databases: readonly number[],
  onKey: () => void,
  { signal, onlyDatabases, maxBulk = MOST_STRING_BYTES, onFirstChange, select = (db) => db, now }: OnlineRestoreOptions = {},
): Promise<{ restored: number; expired: number }> {
  signal?.throwIfAborted();
  const connection = await RespConnection.open(address);
  let changing = false;
  const firstChange = () => {
    if (!changing) onFirstChange?.();
    changing = true;
  };
  try {
    for (const db of databases) {
      signal?.throwIfAborted();
      connection.expectOk(await connection.command('SELECT', String(db)), `SELECT ${db}`);
      firstChange();
      connection.expectOk(await connection.command('FLUSHDB'), `FLUSHDB in database ${db}`);
    }
    let current = -1;
    let restored = 0;
    let expired = 0;
    const pending: { reply: Promise<RespReply>; index?: number; key?: Buffer }[] = [];
    const settle = async (keep: number) => {
      while (pending.length > keep) {
        const { reply: next, index, key } = pending.shift()!;
        const reply = await next;
        if (!(reply instanceof RespError)) continue;
        if (index === undefined) throw new RuntimeError(`Redis at ${address.shown} refused a SELECT: ${reply.message}.`);
        throw new RestoreRefused(`Redis at ${address.shown} refused the RESTORE of ${shownKey(key!)}: ${reply.message}.`, index);
      }
    };
    const valueKeepUpTo = maxBulk - DUMP_TRAILER_BYTES;
    // Keys left out are stepped over by the walk, their values neither kept nor measured; an interrupt is given as the next key.
    const picked = (db: number, key: Buffer) =>
      signal?.aborted || ((!onlyDatabases || onlyDatabases.includes(db)) && select(db, key) !== undefined);
    for await (const entry of walkRdb(rdb, { keepKey: () => true, values: true, valueKeepUpTo, select: picked })) {
      if (signal?.aborted) break;
      const target = select(entry.db, entry.key!)!;
      if (entry.expiresAtMs !== undefined && entry.expiresAtMs <= (now ?? Date.now())) {
        expired += 1;
        continue;
      }
      if (entry.value === undefined) {
        throw new RuntimeError(
          `the key ${shownKey(entry.key!)} needs a RESTORE of ${formatBytes(entry.valueBytes! + DUMP_TRAILER_BYTES)}, over the proto-max-bulk-len of Redis at ${address.shown}.`,
        );
      }
      if (target !== current) {
        pending.push({ reply: connection.send(['SELECT', String(target)]) });
        current = target;
      }
      const payload = dumpPayload(entry.value, entry.version);
      firstChange();
      const command = ['RESTORE', entry.key!, String(entry.expiresAtMs ?? 0), payload, 'REPLACE', 'ABSTTL'];
      pending.push({ reply: connection.send(command), index: restored, key: entry.key });
      restored += 1;
      onKey();
      await connection.drained();
      await settle(PIPELINE_WINDOW);
    }
    // Also on the signal: what was sent is answered before the caller changes anything again.
    await settle(0);
    signal?.throwIfAborted();
    return { restored, expired };
  } finally {
    connection.close();
  }
}

/**
 * Puts a kept RDB file back online after a failed restore, on a new connection: the databases
 * the restore flushed are flushed again and refilled from the file's keys of those databases.
 */
export function putBackOnline(
  address: RedisAddress,
  kept: string,
  databases: readonly number[],
  maxBulk: number,
): Promise<{ restored: number; expired: number }> {
  return restoreOnline(address, createReadStream(kept), databases, () => undefined, { onlyDatabases: databases, maxBulk });
}

export function keysText(keysPerDb: ReadonlyMap<number, number>): string {
  const total = [...keysPerDb.values()].reduce((sum, count) => sum + count, 0);
  return `${plural(total, 'key')} in ${databasesText([...keysPerDb.keys()])}`;
}
