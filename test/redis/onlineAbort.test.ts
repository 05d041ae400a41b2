import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { replicaSnapshot, restoreOnline } from '../../src/redis/direct.js';
import { parseRedisUrl } from '../../src/redis/resp.js';
import { hasRedisServer, startHostRedis, stopHostRedis } from '../helpers/hostRedis.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

/**
 * An interrupted online restore (redis-server on the host): once the signal comes, nothing more
 * is sent and every RESTORE already sent is answered before restoreOnline gives up, so none is
 * still queued in the server when the caller's put-back flushes the database on a new connection.
 */

afterAll(stopHostRedis);

describe.skipIf(!hasRedisServer)('an interrupted online restore (redis-server on the host)', () => {
  it('stops sending at the signal and awaits the RESTOREs in flight: when it throws, the server holds exactly the keys sent', async () => {
    const source = await startHostRedis('abort-src-pw');
    source.cli('EVAL', `for i = 1, 60000 do redis.call('SET', 'key:' .. i, string.rep('v', 200) .. i) end`, '0');
    const file = join(await temporaryFolder('okb-redis-abort-'), 'dump.rdb');
    const snapshot = await replicaSnapshot(parseRedisUrl(`redis://:abort-src-pw@127.0.0.1:${source.port}`));
    await pipeline(snapshot.content, createWriteStream(file));

    const target = await startHostRedis('abort-dst-pw');
    const address = parseRedisUrl(`redis://:abort-dst-pw@127.0.0.1:${target.port}`);
    const controller = new AbortController();
    let sent = 0;
    const onKey = () => {
      sent += 1;
      if (sent === 20_000) controller.abort();
    };
    const error = await restoreOnline(address, createReadStream(file), [0], onKey, { signal: controller.signal }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(Error);
    expect(controller.signal.aborted).toBe(true);
    expect(sent).toBe(20_000);
    expect(Number(await target.cliAsync('DBSIZE'))).toBe(sent);
  });
});
