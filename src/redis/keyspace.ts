import type { RedisCli } from './cli.js';
import { parseInfo } from './layout.js';

/** The keys of every database (`INFO keyspace`); DBSIZE counts only the selected one. */
export async function countKeys(cli: RedisCli): Promise<number> {
  const keyspace = parseInfo(await cli.run('INFO', 'keyspace'));
  return Object.values(keyspace).reduce((total, value) => total + Number(/keys=(\d+)/.exec(value)?.[1] ?? 0), 0);
}
