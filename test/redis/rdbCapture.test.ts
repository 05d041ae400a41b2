import { describe, expect, it } from 'vitest';
import { walkRdb } from '../../src/redis/rdbKeys.js';
import { ChunkReader, type RdbBytes } from '../../src/redis/rdbReader.js';
import { surveyRdb } from '../../src/redis/rdbSurvey.js';
import { setOfOneByteMembers, withRecord } from '../helpers/rdbRecords.js';

/**
 * How much of a value the walk holds when it keeps values (for RESTORE) or measures them (the
 * online plan): a set of many 1-byte members (an RDB that gzips small and passes every length
 * check) is held in a few growing chunks, never one piece per byte, and not at all past the
 * limit the caller gives; the survey only measures it.
 */

const EMPTY_RDB = Buffer.concat([Buffer.from('REDIS0011'), Buffer.from([0xff]), Buffer.alloc(8)]);

/** The file in chunks of 4 KiB, with its size known (as an archive entry's). */
function inChunks(file: Buffer): RdbBytes {
  return {
    size: file.length,
    async *[Symbol.asyncIterator]() {
      for (let offset = 0; offset < file.length; offset += 4096) yield file.subarray(offset, offset + 4096);
    },
  };
}

/** Reads the set's members one at a time under a capture that keeps up to `keepUpTo` bytes; the most chunks held at any point. */
async function captureSet(record: Buffer, members: number, keepUpTo: number) {
  const reader = new ChunkReader(inChunks(record));
  await reader.take(1 + 1 + 'many'.length); // type byte and key, as the walk reads them before the value
  reader.startCapture(Buffer.from([0x02]), keepUpTo);
  let mostChunks = 0;
  const count = await reader.count('a set');
  expect(count).toBe(members);
  for (let index = 0; index < count; index += 1) {
    await reader.string(-1);
    mostChunks = Math.max(mostChunks, reader.capturedChunks);
  }
  const chunksAtEnd = reader.capturedChunks;
  return { ...reader.endCapture(), mostChunks, chunksAtEnd };
}

describe('the value capture of the RDB walk', () => {
  const members = 300_000;
  const record = setOfOneByteMembers('many', members);
  const encoding = Buffer.concat([Buffer.from([0x02]), record.subarray(1 + 1 + 4)]);

  it('a set of 300,000 one-byte members is kept whole in a few growing chunks (not one piece per byte)', async () => {
    const { value, bytes, mostChunks } = await captureSet(record, members, Number.POSITIVE_INFINITY);
    expect(bytes).toBe(encoding.length);
    expect(value?.equals(encoding)).toBe(true);
    // 600 kB in pieces of at most 64 KiB that grow from 256 bytes: about 18, never hundreds of thousands.
    expect(mostChunks).toBeLessThanOrEqual(Math.ceil(encoding.length / 65_536) + 10);
  });

  it('past its limit a capture lets go of what it kept and only counts: the value is undefined, its size exact', async () => {
    const { value, bytes, mostChunks, chunksAtEnd } = await captureSet(record, members, 10_000);
    expect(value).toBeUndefined();
    expect(bytes).toBe(encoding.length);
    // 10 kB at most, in chunks that grow from 256 bytes; nothing once past it.
    expect(mostChunks).toBeLessThanOrEqual(8);
    expect(chunksAtEnd).toBe(0);
  });

  it('the walk with a value limit yields the size of a value over it and no bytes; the survey finds it over proto-max-bulk-len by measuring', async () => {
    const file = withRecord(EMPTY_RDB, record);
    const entries = [];
    for await (const entry of walkRdb(inChunks(file), { keepKey: () => true, values: true, valueKeepUpTo: 1024 })) entries.push(entry);
    expect(entries).toHaveLength(1);
    expect(entries[0].value).toBeUndefined();
    expect(entries[0].valueBytes).toBe(encoding.length);

    const survey = await surveyRdb(inChunks(file), 1024 * 1024);
    expect(survey.check.problems).toEqual([]);
    expect(survey.keysPerDb).toEqual(new Map([[0, 1]]));
    expect(survey.oversized).toEqual({ count: 0 });
    const tight = await surveyRdb(inChunks(file), 100_000);
    expect(tight.oversized.count).toBe(1);
    expect(tight.oversized.largest).toEqual({ key: Buffer.from('many'), bytes: encoding.length + 10 });
  });
});
