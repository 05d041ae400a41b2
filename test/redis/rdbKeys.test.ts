import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkRdb } from '../../src/redis/rdb.js';
import { scanRdbKeys, walkRdb, type WalkOptions } from '../../src/redis/rdbKeys.js';
import { DamagedRdb, type RdbBytes } from '../../src/redis/rdbReader.js';
import { fillKey, hasRedisServer, startHostRedis, stopHostRedis, type HostRedis } from '../helpers/hostRedis.js';
import { MODULE_KEY, lzfOfRepeatedA, lzfString, rdbFile, rdbLength, rdbString, stringKey } from '../helpers/rdbRecords.js';

/**
 * The RDB key walk against files written by a real redis-server on the host (Debian's Redis 7.0,
 * which `.ci/run` installs): every type and encoding that version writes, TTLs, two databases.
 */

let server: HostRedis;

function cli(...args: string[]): string {
  return server.cli(...args);
}

beforeAll(async () => {
  if (hasRedisServer) server = await startHostRedis();
});
afterAll(stopHostRedis);

describe.skipIf(!hasRedisServer)('scanRdbKeys on RDB files of a real Redis (redis-server on the host)', () => {
  it('counts every key of every database and samples keys with the type and expiry Redis reports, across every encoding', async () => {
    cli('SET', 'string:short', 'v');
    cli('SET', 'string:int', '12345');
    cli('SET', 'string:long', 'x'.repeat(5000)); // LZF-compressed in the file
    cli('SET', 'string:ttl', 'soon', 'PX', '86400000');
    cli('SET', `string:long-key:${'k'.repeat(300)}`, 'v'); // the key itself LZF-compressed, decompressed for the sample
    fillKey(server, 'hash', 'hash:small', 5);
    fillKey(server, 'hash', 'hash:large', 600); // past hash-max-listpack-entries: a real hash table
    fillKey(server, 'list', 'list:small', 5);
    fillKey(server, 'list', 'list:large', 5000); // several quicklist nodes
    cli('RPUSH', 'list:huge-element', 'y'.repeat(20_000)); // a plain quicklist node
    fillKey(server, 'set', 'set:large', 600);
    fillKey(server, 'intset', 'set:ints', 50);
    fillKey(server, 'zset', 'zset:small', 5);
    fillKey(server, 'zset', 'zset:large', 600); // skiplist: members with binary doubles
    cli('XADD', 'stream:events', '*', 'kind', 'login', 'user', 'ada');
    cli('XADD', 'stream:events', '*', 'kind', 'logout', 'user', 'ada');
    cli('XGROUP', 'CREATE', 'stream:events', 'workers', '0');
    cli('XREADGROUP', 'GROUP', 'workers', 'alice', 'COUNT', '1', 'STREAMS', 'stream:events', '>'); // one pending entry, one consumer
    cli('EXPIRE', 'hash:small', '3600');
    cli('-n', '3', 'SET', 'db3:key', 'three');
    fillKey(server, 'hash', 'db3:hash', 3, 3);
    cli('SAVE');

    const scan = await scanRdbKeys(createReadStream(join(server.dir, 'dump.rdb')), 100);
    expect(scan.stopped).toBeUndefined();
    expect(Object.fromEntries(scan.keysPerDb!)).toEqual({ 0: Number(cli('DBSIZE')), 3: Number(cli('-n', '3', 'DBSIZE')) });
    expect(scan.sample).toHaveLength(17);
    expect(scan.sample.map((key) => key.key)).toContain(`string:long-key:${'k'.repeat(300)}`);
    for (const key of scan.sample) {
      expect(cli('-n', String(key.db), 'TYPE', key.key), key.key).toBe(key.type);
      const expiresAt = Number(cli('-n', String(key.db), 'PEXPIRETIME', key.key));
      expect(key.expiresAtMs ?? -1, key.key).toBe(expiresAt);
    }
    expect(new Set(scan.sample.map((key) => key.type))).toEqual(new Set(['string', 'hash', 'list', 'set', 'zset', 'stream']));
  });

  it('samples only the first keys but still counts them all, and stops (count unknown) on a truncated file', async () => {
    cli('FLUSHALL');
    fillKey(server, 'set', 'filler', 1);
    cli('EVAL', "for i = 1, 300 do redis.call('SET', 'k' .. i, i) end", '0');
    cli('SAVE');
    const path = join(server.dir, 'dump.rdb');
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

/** The file as a stream of chunks; `size` is what the walk is told of its length ('unknown': nothing, as for a plain stream). */
function sized(file: Buffer, size: number | 'unknown' = file.length): RdbBytes {
  return {
    size: size === 'unknown' ? undefined : size,
    async *[Symbol.asyncIterator]() {
      // Small chunks, as a stream brings them: records straddle chunk boundaries.
      for (let at = 0; at < file.length; at += 7) yield file.subarray(at, at + 7);
    },
  };
}

async function walkAll(file: RdbBytes, options: WalkOptions): Promise<number> {
  let keys = 0;
  for await (const entry of walkRdb(file, options)) keys += entry.key || entry.type ? 1 : 0;
  return keys;
}

const GIANT = 2 ** 31; // 2 GB
const RESTORE: WalkOptions = { keepKey: () => true, values: true };
const PLAN: WalkOptions = { keepKey: () => false, values: false };

describe('hostile RDB records: every declared length is checked before anything is allocated for it', () => {
  const largest: number[] = [];
  // Any buffer past 16 MB would be the declared size: recorded, and refused so that the test does not allocate it.
  const guarded = (size: number) => {
    largest.push(size);
    if (size > 16 * 1024 * 1024) throw new Error(`a ${size}-byte buffer was requested`);
    return size;
  };
  const originals = {
    alloc: Buffer.alloc.bind(Buffer),
    allocUnsafe: Buffer.allocUnsafe.bind(Buffer),
    allocUnsafeSlow: Buffer.allocUnsafeSlow.bind(Buffer),
  };
  const spies = () => {
    largest.length = 0;
    vi.spyOn(Buffer, 'alloc').mockImplementation((size, fill, encoding) => originals.alloc(guarded(size), fill, encoding));
    vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size) => originals.allocUnsafe(guarded(size)));
    vi.spyOn(Buffer, 'allocUnsafeSlow').mockImplementation((size) => originals.allocUnsafeSlow(guarded(size)));
  };
  afterEach(() => vi.restoreAllMocks());

  it('an LZF value of 822 compressed bytes declaring 2 GB is refused as damaged, naming its key, by the restore walk and the plan walk alike, no large buffer requested', async () => {
    const hostile = rdbFile(
      stringKey(rdbString('ok'), rdbString('fine')),
      stringKey(rdbString('big'), lzfString(lzfOfRepeatedA(273), GIANT)),
    );
    for (const [options, size] of [
      [RESTORE, hostile.length],
      [PLAN, hostile.length],
      [RESTORE, 'unknown'],
      [PLAN, 'unknown'],
    ] as const) {
      spies();
      const error = await walkAll(sized(hostile, size), options).catch((caught: unknown) => caught);
      vi.restoreAllMocks();
      expect(error).toBeInstanceOf(DamagedRdb);
      expect((error as DamagedRdb).exitCode).toBe(2);
      expect((error as Error).message).toMatch(
        /^the RDB file is damaged in the value of key "big" \(database 0\), at byte \d+: an LZF-compressed string declares 2\.1 GB uncompressed from 821 bytes, which LZF expands to 72\.2 kB at most\.$/,
      );
      expect(Math.max(...largest, 0)).toBeLessThan(1024 * 1024);
    }
  });

  it('an LZF key declaring 2 GB (kept whole by the restore) is refused before its output buffer is allocated', async () => {
    const hostile = rdbFile(stringKey(lzfString(lzfOfRepeatedA(3), GIANT), rdbString('v')));
    spies();
    const error = await walkAll(sized(hostile), RESTORE).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DamagedRdb);
    expect((error as Error).message).toMatch(
      /damaged in the name of the key first in the file, at byte \d+: an LZF-compressed string declares 2\.1 GB uncompressed from 11 bytes/,
    );
    expect(Math.max(...largest, 0)).toBeLessThan(1024 * 1024);
  });

  it('compressed bytes must expand to exactly the declared length, whether the string is decompressed (a kept key) or passed over (a value)', async () => {
    const exact = lzfOfRepeatedA(2); // 1 + 2 × 264 bytes
    const good = rdbFile(stringKey(lzfString(exact, 529), lzfString(exact, 529)));
    const keys: Buffer[] = [];
    for await (const entry of walkRdb(sized(good), RESTORE)) keys.push(entry.key!);
    expect(keys).toEqual([Buffer.from('a'.repeat(529))]);
    for (const declared of [600, 500]) {
      for (const [record, options] of [
        [stringKey(lzfString(exact, declared), rdbString('v')), RESTORE],
        [stringKey(rdbString('k'), lzfString(exact, declared)), PLAN],
        [stringKey(rdbString('k'), lzfString(exact, declared)), RESTORE],
      ] as const) {
        const error = await walkAll(sized(rdbFile(record)), options).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(DamagedRdb);
        expect((error as Error).message).toMatch(
          declared > 529
            ? /does not expand as declared: they expand to 529 bytes, not the 600 declared/
            : /expand past the 500 bytes declared/,
        );
      }
    }
    const backwards = rdbFile(stringKey(rdbString('k'), lzfString(Buffer.from([0x00, 0x61, 0x20, 0x05]), 5)));
    await expect(walkAll(sized(backwards), PLAN)).rejects.toThrow(/a back-reference points before the start of the string/);
  });

  it('plain string lengths past the end of the file or above 512 MiB, and element counts the rest of the file cannot hold, are refused before reading on', async () => {
    const pastEnd = rdbFile(stringKey(rdbString('k'), Buffer.concat([rdbLength(400 * 1024 * 1024), Buffer.from('short')])));
    const tooLarge = rdbFile(stringKey(rdbString('k'), Buffer.concat([rdbLength(2 ** 33), Buffer.from('short')])));
    const manyElements = rdbFile(Buffer.concat([Buffer.from([0x01]), rdbString('list'), rdbLength(2 ** 40), rdbString('one')]));
    const cases: [Buffer, number | 'unknown', RegExp][] = [
      [pastEnd, pastEnd.length, /a string declares 419430400 bytes, past the end of the file \(\d+ left\)/],
      [pastEnd, 'unknown', /the file ends inside a record/],
      [tooLarge, 'unknown', /a string declares 8\.5 GB, more than the 512 MiB a Redis string holds/],
      [
        manyElements,
        manyElements.length,
        /a list or set of strings declares 1099511627776, more than the \d+ bytes left in the file can hold/,
      ],
    ];
    for (const [file, size, message] of cases) {
      for (const options of [RESTORE, PLAN]) {
        spies();
        const error = await walkAll(sized(file, size), options).catch((caught: unknown) => caught);
        vi.restoreAllMocks();
        expect(error).toBeInstanceOf(DamagedRdb);
        expect((error as Error).message).toMatch(message);
        expect(Math.max(...largest, 0)).toBeLessThan(1024 * 1024);
      }
    }
  });

  it("verify (checkRdb) reports a hostile record of a file whose CRC-64 is valid; the drill's scan stops there and says it is damaged", async () => {
    const hostile = rdbFile(stringKey(rdbString('big'), lzfString(lzfOfRepeatedA(273), GIANT)));
    const check = await checkRdb(sized(hostile), hostile.length);
    expect(check.checksum).toBe('ok');
    expect(check.problems).toEqual([
      expect.stringMatching(
        /^in the value of key "big" \(database 0\), at byte \d+: an LZF-compressed string declares 2\.1 GB .* \(damaged or hostile archive\)$/,
      ),
    ]);
    const scan = await scanRdbKeys(sized(hostile));
    expect(scan.keysPerDb).toBeUndefined();
    expect(scan.damaged).toBe(true);
    expect(scan.stopped).toMatch(/damaged in the value of key "big" .*: an LZF-compressed string declares 2\.1 GB/);
    const sound = rdbFile(stringKey(rdbString('k'), lzfString(lzfOfRepeatedA(2), 529)));
    expect(await checkRdb(sized(sound), sound.length)).toEqual({ version: 11, checksum: 'ok', problems: [] });
    const moduleData = rdbFile(MODULE_KEY);
    expect(await checkRdb(sized(moduleData), moduleData.length)).toEqual({ version: 11, checksum: 'ok', problems: [] });
  });
});
