import { describe, expect, it } from 'vitest';
import { walkRdb, type RdbEntry } from '../../src/redis/rdbKeys.js';
import type { RdbBytes } from '../../src/redis/rdbReader.js';
import { SelectedRdb } from '../../src/redis/selectedRdb.js';
import { rdbFile, rdbLength, rdbString, setOfOneByteMembers, stringKey } from '../helpers/rdbRecords.js';

const bytesOf = (file: Buffer): RdbBytes => ({
  size: file.length,
  async *[Symbol.asyncIterator]() {
    yield file;
  },
});

async function entries(rdb: RdbBytes): Promise<RdbEntry[]> {
  const found: RdbEntry[] = [];
  for await (const entry of walkRdb(rdb, { keepKey: () => true, values: true })) found.push(entry);
  return found;
}

/** An expiry (ms) record before the next key. */
function expiresAt(ms: number): Buffer {
  const record = Buffer.alloc(9);
  record[0] = 0xfc;
  record.writeBigUInt64LE(BigInt(ms), 1);
  return record;
}

describe('SelectedRdb: the selected keys of an RDB as an RDB file of their own', () => {
  it('walks back to the same keys, databases, expiries and values as were added, in order (long keys and values included)', async () => {
    const longKey = `k:${'x'.repeat(20_000)}`;
    const archive = rdbFile(
      stringKey(rdbString('session:1'), rdbString('one')),
      expiresAt(4_102_444_800_000),
      stringKey(rdbString('session:2'), rdbString('two')),
      Buffer.from([0xfe]),
      rdbLength(3),
      setOfOneByteMembers('set:3', 300),
      stringKey(rdbString(longKey), rdbString('v'.repeat(70_000))),
    );
    const added = await entries(bytesOf(archive));
    const selected = await SelectedRdb.create();
    try {
      for (const entry of added) if (entry.key!.toString() !== 'session:1') await selected.add(entry);
      await selected.finish();
      expect(selected.complete).toBe(true);
      expect(selected.keys).toBe(3);
      const walked = await entries(selected.bytes());
      const shape = (entry: RdbEntry) => ({
        db: entry.db,
        key: entry.key!.toString(),
        type: entry.type,
        expiresAtMs: entry.expiresAtMs,
        value: entry.value,
        version: entry.version,
      });
      expect(walked.map(shape)).toEqual(added.slice(1).map(shape));
      expect(walked.map((entry) => [entry.db, entry.key!.length])).toEqual([
        [0, 9],
        [3, 5],
        [3, longKey.length],
      ]);
    } finally {
      await selected.remove();
    }
  });

  it('is incomplete when a selected value was only measured (too long to keep): the restore then reads the archive', async () => {
    const archive = rdbFile(stringKey(rdbString('big'), rdbString('v'.repeat(5000))));
    const selected = await SelectedRdb.create();
    try {
      for await (const entry of walkRdb(bytesOf(archive), { keepKey: () => true, values: true, valueKeepUpTo: 100 }))
        await selected.add(entry);
      expect(selected.complete).toBe(false);
    } finally {
      await selected.remove();
    }
  });
});
