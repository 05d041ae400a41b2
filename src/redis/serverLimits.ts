import { UsageError } from '../base/errors.js';
import { formatBytes, plural } from '../base/format.js';
import { parseInfo } from './layout.js';
import { shownKey } from './rdbKeys.js';
import { MOST_STRING_BYTES } from './rdbReader.js';
import type { RdbSurvey } from './rdbSurvey.js';
import { RespConnection, RespError, type RedisAddress, type RespReply } from './resp.js';

/** What a target server accepts, read once before an online restore. */
export interface ServerLimits {
  readonly version: string;
  /** Its `databases` setting; undefined when CONFIG GET is refused (each database is then tried with SELECT). */
  readonly databases?: number;
  /** Its `proto-max-bulk-len`: the longest bulk string (key or DUMP payload) one command may send. */
  readonly maxBulk: number;
  readonly maxBulkKnown: boolean;
}

export async function serverLimits(address: RedisAddress): Promise<ServerLimits> {
  const connection = await RespConnection.open(address);
  try {
    const info = await connection.command('INFO', 'server');
    const version = parseInfo(Buffer.isBuffer(info) ? info.toString('utf8') : '').redis_version ?? '?';
    const databases = configNumber(await connection.command('CONFIG', 'GET', 'databases'));
    const maxBulk = configNumber(await connection.command('CONFIG', 'GET', 'proto-max-bulk-len'));
    // Redis's own default (its limit on a string) when CONFIG GET is refused, as managed services do.
    return { version, databases, maxBulk: maxBulk ?? MOST_STRING_BYTES, maxBulkKnown: maxBulk !== undefined };
  } finally {
    connection.close();
  }
}

/** Refuses an RDB that fills a database the server does not have (SELECT would fail after the first FLUSHDB). */
export async function checkDatabases(address: RedisAddress, server: ServerLimits, wanted: readonly number[]): Promise<void> {
  const missing = server.databases === undefined ? await unselectable(address, wanted) : wanted.filter((db) => db >= server.databases!);
  if (missing.length === 0) return;
  const has =
    server.databases === undefined ? '' : ` (databases 0-${server.databases - 1}: its "databases" setting is ${server.databases})`;
  throw new UsageError(`the backup fills ${databasesText(missing)} that Redis at ${address.shown} does not have${has}.`, {
    hint: `Set "databases ${Math.max(...missing) + 1}" (or more) in its configuration and restart it, or restore into a Redis that has them. Nothing was touched.`,
  });
}

/** Refuses an RDB holding a key or value whose RESTORE the server would cut off (and drop the connection). */
export function checkBulkLengths(address: RedisAddress, server: ServerLimits, survey: RdbSurvey): void {
  const { count, largest } = survey.oversized;
  if (count === 0 || !largest) return;
  const limit = `the ${server.maxBulkKnown ? '' : 'default '}proto-max-bulk-len of Redis at ${address.shown} (${formatBytes(server.maxBulk)})`;
  throw new UsageError(`the backup's ${oversizedText(largest, count, limit)}.`, {
    hint: `Raise proto-max-bulk-len on the server (CONFIG SET proto-max-bulk-len ${largest.bytes}), or restore through the container (unset REDIS_URL). Nothing was touched.`,
  });
}

/** The databases SELECT refuses, tried on a connection of their own (SELECT changes nothing). */
async function unselectable(address: RedisAddress, wanted: readonly number[]): Promise<number[]> {
  const connection = await RespConnection.open(address);
  try {
    const missing: number[] = [];
    for (const db of wanted) if ((await connection.command('SELECT', String(db))) instanceof RespError) missing.push(db);
    return missing;
  } finally {
    connection.close();
  }
}

/** `CONFIG GET name` answers `[name, value]`; an error or an empty answer (refused, renamed) is undefined. */
function configNumber(reply: RespReply): number | undefined {
  if (!Array.isArray(reply) || reply.length < 2 || !Buffer.isBuffer(reply[1])) return undefined;
  const value = Number(reply[1].toString('latin1'));
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** `key "big" needs a RESTORE of 3.1 MB (and 2 other keys), over <limit>`. */
export function oversizedText(largest: { key: Buffer; bytes: number }, count: number, limit: string): string {
  const others = count > 1 ? ` (and ${plural(count - 1, 'other key')})` : '';
  return `key ${shownKey(largest.key)} needs a RESTORE of ${formatBytes(largest.bytes)}${others}, over ${limit}`;
}

/** `2 databases (0, 3)`, `database 5`, `no database`. */
export function databasesText(databases: readonly number[]): string {
  const sorted = [...databases].sort((a, b) => a - b);
  if (sorted.length === 0) return 'no database';
  if (sorted.length === 1) return `database ${sorted[0]}`;
  return `${plural(sorted.length, 'database')} (${sorted.join(', ')})`;
}
