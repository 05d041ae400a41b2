import { createReadStream, createWriteStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PreconditionError, RuntimeError } from '../base/errors.js';
import { plural } from '../base/format.js';
import { Crc64 } from '../integrity/crc64.js';
import { highestRdbVersion } from './rdb.js';
import { Unwalkable, walkRdb } from './rdbKeys.js';
import { RespConnection, RespError, type RedisAddress, type RespReply } from './resp.js';

/** Replies awaited at once while RESTORE commands stream to the server. */
const PIPELINE_WINDOW = 512;

/**
 * The server's RDB through the replication handshake, as `redis-cli --rdb` takes it: SYNC, then
 * `$<length>\r\n` and that many bytes (newlines before it are keepalives while the server saves).
 * No file access to the server is needed. The connection closes once the RDB has been read.
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
    const refuse = (line: string) => {
      connection.close();
      reject(
        new PreconditionError(`Redis at ${address.shown} refused SYNC (${line.replace(/^-/, '')}).`, {
          hint: 'Managed services often do: back up through the container instead (unset REDIS_URL and run on the Docker host).',
        }),
      );
    };
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

/** Keeps the server's current data as an RDB file (before an online restore replaces it). */
export async function keepSnapshot(address: RedisAddress, path: string): Promise<void> {
  const { content } = await replicaSnapshot(address);
  await pipeline(content, createWriteStream(path, { mode: 0o600 }));
}

export interface OnlinePlan {
  readonly version: number;
  readonly keysPerDb: ReadonlyMap<number, number>;
  readonly serverVersion: string;
}

/**
 * Checks, reading the whole RDB, that an online restore can convert every key (each type Redis
 * 7 writes; module data and the hash-field-expiry types of 7.4 cannot be) and that the server
 * accepts the RDB's version in a DUMP payload. Throws before any change.
 */
export async function planOnlineRestore(address: RedisAddress, rdb: AsyncIterable<Buffer>): Promise<OnlinePlan> {
  const keysPerDb = new Map<number, number>();
  let version: number;
  try {
    const walk = walkRdb(rdb, { keepKey: () => false, values: false });
    for (;;) {
      const next = await walk.next();
      if (next.done) {
        version = next.value;
        break;
      }
      keysPerDb.set(next.value.db, (keysPerDb.get(next.value.db) ?? 0) + 1);
    }
  } catch (error) {
    if (!(error instanceof Unwalkable)) throw error;
    throw new PreconditionError(`the backup's RDB holds ${error.message}, which an online restore cannot turn into RESTORE commands.`, {
      hint: 'Restore through the container instead (unset REDIS_URL). Nothing was touched.',
    });
  }
  const connection = await RespConnection.open(address);
  try {
    const info = replyText(await connection.command('INFO', 'server'));
    const serverVersion = /redis_version:([\d.]+)/.exec(info)?.[1] ?? '?';
    const loads = highestRdbVersion(serverVersion);
    if (loads !== undefined && version > loads) {
      throw new PreconditionError(
        `the backup's RDB is version ${version}, newer than Redis ${serverVersion} at ${address.shown} accepts (up to ${loads}).`,
        {
          hint: 'Restore into a Redis at least as new as the one that made the backup. Nothing was touched.',
        },
      );
    }
    return { version, keysPerDb, serverVersion };
  } finally {
    connection.close();
  }
}

/**
 * Restores an RDB online: FLUSHDB in each of its databases, then every key with
 * `RESTORE key ttl payload REPLACE ABSTTL` (a DUMP payload is the RDB value encoding, the RDB
 * version and a CRC-64), pipelined. Keys whose expiry has passed are not restored. The server keeps running.
 */
export async function restoreOnline(
  address: RedisAddress,
  rdb: AsyncIterable<Buffer>,
  databases: readonly number[],
  onKey: () => void,
): Promise<{ restored: number; expired: number }> {
  const connection = await RespConnection.open(address);
  try {
    for (const db of databases) {
      connection.expectOk(await connection.command('SELECT', String(db)), `SELECT ${db}`);
      connection.expectOk(await connection.command('FLUSHDB'), `FLUSHDB in database ${db}`);
    }
    let current = -1;
    let restored = 0;
    let expired = 0;
    const pending: Promise<RespReply>[] = [];
    const settle = async (keep: number) => {
      while (pending.length > keep) {
        const reply = await pending.shift()!;
        if (reply instanceof RespError) throw new RuntimeError(`Redis at ${address.shown} refused a RESTORE: ${reply.message}.`);
      }
    };
    for await (const entry of walkRdb(rdb, { keepKey: () => true, values: true })) {
      if (entry.expiresAtMs !== undefined && entry.expiresAtMs <= Date.now()) {
        expired += 1;
        continue;
      }
      if (entry.db !== current) {
        pending.push(connection.send(['SELECT', String(entry.db)]));
        current = entry.db;
      }
      const payload = dumpPayload(entry.value!, versionOf(entry.version));
      pending.push(connection.send(['RESTORE', entry.key!, String(entry.expiresAtMs ?? 0), payload, 'REPLACE', 'ABSTTL']));
      restored += 1;
      onKey();
      await connection.drained();
      await settle(PIPELINE_WINDOW);
    }
    await settle(0);
    return { restored, expired };
  } finally {
    connection.close();
  }
}

/** Puts a kept RDB file back online (after a failed restore). */
export function putBackOnline(
  address: RedisAddress,
  kept: string,
  databases: readonly number[],
): Promise<{ restored: number; expired: number }> {
  return restoreOnline(address, createReadStream(kept), databases, () => undefined);
}

/** A DUMP payload: the value's RDB encoding, the RDB version (2 bytes LE), the CRC-64 of both (8 bytes LE). */
export function dumpPayload(value: Buffer, version: Buffer): Buffer {
  const body = Buffer.concat([value, version]);
  const crc = Crc64.jones();
  crc.update(body);
  const checksum = Buffer.alloc(8);
  checksum.writeBigUInt64LE(crc.digest());
  return Buffer.concat([body, checksum]);
}

function versionOf(version: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16LE(version);
  return bytes;
}

function replyText(reply: RespReply): string {
  return Buffer.isBuffer(reply) ? reply.toString('utf8') : '';
}

export function keysText(keysPerDb: ReadonlyMap<number, number>): string {
  const total = [...keysPerDb.values()].reduce((sum, count) => sum + count, 0);
  return `${plural(total, 'key')} in ${plural(keysPerDb.size, 'database')} (${[...keysPerDb.keys()].sort((a, b) => a - b).join(', ')})`;
}
