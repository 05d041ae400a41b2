import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import { PreconditionError, RuntimeError } from '../base/errors.js';
import { formatBytes } from '../base/format.js';
import { redisGlobMatches } from './keyGlob.js';
import { shownKey, walkRdb, type RdbEntry } from './rdbKeys.js';
import type { RdbBytes } from './rdbReader.js';
import { Pipeline } from './pipeline.js';
import { DUMP_TRAILER_BYTES } from './dumpPayload.js';
import type { SelectedRdb } from './selectedRdb.js';
import { encodeCommand, RespConnection, RespError, type RedisAddress, type RespReply } from './resp.js';

/** Keys SCAN is asked for per call. */
const SCAN_COUNT = '1000';

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

/** `targetOf` for one selection, its globs turned into bytes once (the walk asks it of every key of the archive). */
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

function digest(key: Buffer): string {
  return createHash('sha1').update(key).digest('base64');
}

export interface SelectionCount {
  /** Per glob (`*` without any), per archive database: unexpired keys the archive holds. */
  readonly archived: Map<string, Map<number, number>>;
  /** Per glob, per target database: keys matching now. */
  readonly live: Map<string, Map<number, number>>;
  /** Selected keys of the archive whose expiry has passed: left out. */
  readonly expired: number;
  readonly add: number;
  readonly overwrite: number;
  /** Keys matching now in a target database that the archive's selection lacks (deleted only with deleteMissing). */
  readonly absent: number;
  readonly targets: readonly number[];
}

/**
 * Counts, changing nothing, what a selective restore would do: the archive's selected keys per
 * glob and database (expired ones apart), which of them exist now in their target database
 * (EXISTS, pipelined), the keys matching now (SCAN MATCH) and those of them the archive lacks.
 * The archive's keys are given to `add` by a walk of its RDB: the plan's survey of every key.
 */
export class SelectionCounter {
  private readonly globs: readonly string[];
  private readonly patterns: readonly (readonly [string, Buffer])[];
  private readonly targetOfKey: (db: number, key: Buffer) => number | undefined;
  private readonly pipe: Pipeline;
  private readonly archived: Map<string, Map<number, number>>;
  private readonly keys: ArchivedKeys = new Map();
  private expired = 0;
  private existing = 0;
  private total = 0;
  /** What stopped the count (a refused EXISTS): thrown by `finish`, once the walk is over. */
  private failure: { error: unknown } | undefined;

  private constructor(
    private readonly connection: RespConnection,
    private readonly selection: KeySelection,
    private readonly now: number,
    private readonly held?: SelectedRdb,
  ) {
    this.globs = selection.globs.length > 0 ? selection.globs : ['*'];
    this.patterns = this.globs.map((glob) => [glob, Buffer.from(glob)] as const);
    this.archived = new Map(this.globs.map((glob) => [glob, new Map<number, number>()]));
    this.targetOfKey = targetsOf(selection);
    this.pipe = new Pipeline(connection);
  }

  /** With `held`, every selected key (expired ones too) is also added to it, with the value the walk kept. */
  static async open(address: RedisAddress, selection: KeySelection, now: number, held?: SelectedRdb): Promise<SelectionCounter> {
    return new SelectionCounter(await RespConnection.open(address), selection, now, held);
  }

  /** Whether the selection picks this key of the archive. */
  readonly selects = (db: number, key: Buffer): boolean => this.targetOfKey(db, key) !== undefined;

  /** A key of the archive as the walk meets it: a promise only for a selected key, whose EXISTS is sent. */
  readonly add = (entry: RdbEntry): Promise<void> | undefined => {
    if (this.failure) return undefined;
    const target = this.targetOfKey(entry.db, entry.key!);
    if (target === undefined) return undefined;
    const held = this.held?.add(entry);
    return held ? held.then(() => this.count(entry, target)) : this.count(entry, target);
  };

  private count(entry: RdbEntry, target: number): Promise<void> | undefined {
    for (const [glob, pattern] of this.patterns) {
      if (redisGlobMatches(pattern, entry.key!)) {
        const perDb = this.archived.get(glob)!;
        perDb.set(entry.db, (perDb.get(entry.db) ?? 0) + 1);
      }
    }
    if (entry.expiresAtMs !== undefined && entry.expiresAtMs <= this.now) {
      this.expired += 1;
      return undefined;
    }
    this.total += 1;
    if (!this.keys.has(target)) this.keys.set(target, new Set());
    this.keys.get(target)!.add(digest(entry.key!));
    return this.exists(target, entry.key!).catch((error: unknown) => void (this.failure = { error }));
  }

  private async exists(target: number, key: Buffer): Promise<void> {
    const address = this.connection.address;
    await this.pipe.select(target);
    await this.pipe.send(['EXISTS', key], (reply) => {
      if (reply instanceof RespError) throw new PreconditionError(`Redis at ${address.shown} refused EXISTS: ${reply.message}.`);
      this.existing += reply === 1 ? 1 : 0;
    });
  }

  /** Once every key of the archive was added: what the restore would do, the keys matching now counted. */
  async finish(): Promise<SelectionCount> {
    if (this.failure) throw this.failure.error;
    await this.pipe.settle(0);
    const { selection, globs, keys, archived, expired, total, existing } = this;
    const targets = selection.toDb !== undefined ? [selection.toDb] : [...keys.keys()].sort((a, b) => a - b);
    const live = new Map(globs.map((glob) => [glob, new Map<number, number>()]));
    let absent = 0;
    for (const target of targets) {
      for await (const key of matchingNow(this.connection, target, globs, (glob) => {
        const perDb = live.get(glob)!;
        perDb.set(target, (perDb.get(target) ?? 0) + 1);
      })) {
        if (!keys.get(target)?.has(digest(key))) absent += 1;
      }
    }
    return { archived, live, expired, add: total - existing, overwrite: existing, absent, targets };
  }

  close(): void {
    this.connection.close();
  }
}

/**
 * The keys of database `db` matching any of `globs` now, each once (SCAN MATCH per glob; a key
 * SCAN returns twice, or that two globs match, is given once); `counted` is told each glob a key matched.
 */
async function* matchingNow(
  connection: RespConnection,
  db: number,
  globs: readonly string[],
  counted: (glob: string) => void,
): AsyncGenerator<Buffer> {
  connection.expectOk(await connection.command('SELECT', String(db)), `SELECT ${db}`);
  const seen = new Set<string>();
  const seenPerGlob = new Set<string>();
  for (const glob of globs) {
    seenPerGlob.clear();
    let cursor = '0';
    do {
      const reply = await connection.command('SCAN', cursor, 'MATCH', glob, 'COUNT', SCAN_COUNT);
      if (reply instanceof RespError || !Array.isArray(reply)) {
        throw new PreconditionError(
          `Redis at ${connection.address.shown} refused SCAN: ${reply instanceof RespError ? reply.message : 'an unexpected answer'}.`,
        );
      }
      cursor = (reply[0] as Buffer).toString('latin1');
      for (const key of reply[1] as Buffer[]) {
        const id = digest(key);
        if (seenPerGlob.has(id)) continue;
        seenPerGlob.add(id);
        counted(glob);
        if (seen.has(id)) continue;
        seen.add(id);
        yield key;
      }
    } while (cursor !== '0');
  }
}

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
        for await (const key of matchingNow(connection, target, globs, () => undefined)) {
          if (!keys.get(target)?.has(digest(key))) absent.push(key);
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
