import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanRdbKeys } from '../../src/redis/rdbKeys.js';
import { freePort } from '../engine/stack.js';
import { temporaryFolder } from '../helpers/tempFolders.js';
import { hasRedisServer } from '../helpers/hostRedis.js';

/**
 * The RDB key walk against files written by a real redis-server on the host (Debian's Redis 7.0,
 * which `.ci/run` installs): every type and encoding that version writes, TTLs, two databases.
 */

let server: ChildProcess;
let port: number;
let dir: string;

function cli(...args: string[]): string {
  return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).trim();
}

/** Fills a key with `count` members in one call (Lua), so large encodings are reached quickly. */
function fill(kind: 'hash' | 'list' | 'set' | 'intset' | 'zset', key: string, count: number, db = 0): void {
  const body = {
    hash: "redis.call('HSET', KEYS[1], 'field' .. i, 'value-' .. i)",
    list: "redis.call('RPUSH', KEYS[1], 'element-' .. i)",
    set: "redis.call('SADD', KEYS[1], 'member-' .. i)",
    intset: "redis.call('SADD', KEYS[1], i)",
    zset: "redis.call('ZADD', KEYS[1], i * 1.5, 'member-' .. i)",
  }[kind];
  cli('-n', String(db), 'EVAL', `for i = 1, ${count} do ${body} end`, '1', key);
}

beforeAll(async () => {
  if (!hasRedisServer) return;
  dir = await temporaryFolder('okb-rdb-');
  port = await freePort();
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if (cli('PING') === 'PONG') break;
    } catch {
      if (Date.now() > deadline) throw new Error('redis-server did not start');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});
afterAll(() => server?.kill());

describe.skipIf(!hasRedisServer)('scanRdbKeys on RDB files of a real Redis (redis-server on the host)', () => {
  it('counts every key of every database and samples keys with the type and expiry Redis reports, across every encoding', async () => {
    cli('SET', 'string:short', 'v');
    cli('SET', 'string:int', '12345');
    cli('SET', 'string:long', 'x'.repeat(5000)); // LZF-compressed in the file
    cli('SET', 'string:ttl', 'soon', 'PX', '86400000');
    fill('hash', 'hash:small', 5);
    fill('hash', 'hash:large', 600); // past hash-max-listpack-entries: a real hash table
    fill('list', 'list:small', 5);
    fill('list', 'list:large', 5000); // several quicklist nodes
    cli('RPUSH', 'list:huge-element', 'y'.repeat(20_000)); // a plain quicklist node
    fill('set', 'set:large', 600);
    fill('intset', 'set:ints', 50);
    fill('zset', 'zset:small', 5);
    fill('zset', 'zset:large', 600); // skiplist: members with binary doubles
    cli('XADD', 'stream:events', '*', 'kind', 'login', 'user', 'ada');
    cli('XADD', 'stream:events', '*', 'kind', 'logout', 'user', 'ada');
    cli('XGROUP', 'CREATE', 'stream:events', 'workers', '0');
    cli('XREADGROUP', 'GROUP', 'workers', 'alice', 'COUNT', '1', 'STREAMS', 'stream:events', '>'); // one pending entry, one consumer
    cli('EXPIRE', 'hash:small', '3600');
    cli('-n', '3', 'SET', 'db3:key', 'three');
    fill('hash', 'db3:hash', 3, 3);
    cli('SAVE');

    const scan = await scanRdbKeys(createReadStream(join(dir, 'dump.rdb')), 100);
    expect(scan.stopped).toBeUndefined();
    expect(Object.fromEntries(scan.keysPerDb!)).toEqual({ 0: Number(cli('DBSIZE')), 3: Number(cli('-n', '3', 'DBSIZE')) });
    expect(scan.sample).toHaveLength(16);
    for (const key of scan.sample) {
      expect(cli('-n', String(key.db), 'TYPE', key.key), key.key).toBe(key.type);
      const expiresAt = Number(cli('-n', String(key.db), 'PEXPIRETIME', key.key));
      expect(key.expiresAtMs ?? -1, key.key).toBe(expiresAt);
    }
    expect(new Set(scan.sample.map((key) => key.type))).toEqual(new Set(['string', 'hash', 'list', 'set', 'zset', 'stream']));
  });

  it('samples only the first keys but still counts them all, and stops (count unknown) on a truncated file', async () => {
    cli('FLUSHALL');
    fill('set', 'filler', 1);
    cli('EVAL', "for i = 1, 300 do redis.call('SET', 'k' .. i, i) end", '0');
    cli('SAVE');
    const path = join(dir, 'dump.rdb');
    const scan = await scanRdbKeys(createReadStream(path), 5);
    expect(scan.sample).toHaveLength(5);
    expect(scan.keysPerDb!.get(0)).toBe(301);
    const truncated = await scanRdbKeys(
      (async function* () {
        const whole = execFileSync('cat', [path]);
        yield whole.subarray(0, Math.floor(whole.length / 2));
      })(),
    );
    expect(truncated.keysPerDb).toBeUndefined();
    expect(truncated.stopped).toMatch(/ends inside a record/);
  });
});

describe('scanRdbKeys on the committed fixture', () => {
  it('reads the one key of an RDB written by Redis 7.0', async () => {
    const fixture = new URL('../fixtures/redis-7.0-one-key.rdb', import.meta.url);
    expect(existsSync(fixture)).toBe(true);
    const scan = await scanRdbKeys(createReadStream(fixture));
    expect(scan.stopped).toBeUndefined();
    expect([...scan.keysPerDb!.values()].reduce((a, b) => a + b, 0)).toBe(1);
    expect(scan.sample).toHaveLength(1);
  });

  it('refuses to guess past a value type it cannot skip (module data)', async () => {
    const header = Buffer.from('REDIS0010');
    const moduleKey = Buffer.from([0xfe, 0x00, 0x07, 0x01, 0x6b]); // SELECTDB 0, type 7 (module), key "k"
    const scan = await scanRdbKeys(
      (async function* () {
        yield Buffer.concat([header, moduleKey]);
      })(),
    );
    expect(scan.keysPerDb).toBeUndefined();
    expect(scan.stopped).toMatch(/value type 7/);
  });
});
