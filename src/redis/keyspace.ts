import type { RedisCli } from './cli.js';
import { parseInfo } from './layout.js';
import { RespConnection, RespError, type RedisAddress } from './resp.js';

/** The keys of every database (`INFO keyspace`); DBSIZE counts only the selected one. */
export async function countKeys(cli: RedisCli): Promise<number> {
  return totalKeys(keysPerDatabase(await cli.run('INFO', 'keyspace')));
}

/** Keys per database number ("0", "3") from `INFO keyspace` (`db0:keys=12,expires=0,…`); a database without keys is not listed. */
export function keysPerDatabase(info: string): Record<string, number> {
  const databases: Record<string, number> = {};
  for (const [field, value] of Object.entries(parseInfo(info))) {
    const database = /^db(\d+)$/.exec(field)?.[1];
    const keys = /keys=(\d+)/.exec(value)?.[1];
    if (database !== undefined && keys !== undefined) databases[database] = Number(keys);
  }
  return databases;
}

export function totalKeys(databases: Record<string, number>): number {
  return Object.values(databases).reduce((total, keys) => total + keys, 0);
}

/** `INFO keyspace` of the server at a REDIS_URL, over a connection of its own. */
export async function keyspaceAt(address: RedisAddress): Promise<Record<string, number>> {
  const connection = await RespConnection.open(address);
  try {
    const reply = await connection.command('INFO', 'keyspace');
    if (reply instanceof RespError) throw new Error(`INFO keyspace was refused: ${reply.message}`);
    return keysPerDatabase(Buffer.isBuffer(reply) ? reply.toString('utf8') : '');
  } finally {
    connection.close();
  }
}
