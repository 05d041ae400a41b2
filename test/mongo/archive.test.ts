import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MongoArchiveReader } from '../../src/mongo/archive.js';
import { Crc64 } from '../../src/integrity/crc64.js';
import { isValidDatabaseName, remapArguments, targetNamespace } from '../../src/mongo/remap.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/mongodump/', import.meta.url));

function read(name: string, chunkSize = 7) {
  const bytes = readFileSync(`${FIXTURES}${name}`);
  const reader = new MongoArchiveReader();
  for (let offset = 0; offset < bytes.length; offset += chunkSize) reader.push(bytes.subarray(offset, offset + chunkSize));
  return reader.finish();
}

describe('mongodump archive reader on real archives', () => {
  it('test.bar.archive: two namespaces, their document counts, sizes and CRC-64', () => {
    const summary = read('test.bar.archive');
    expect(summary.problems).toEqual([]);
    expect(summary.header).toMatchObject({ formatVersion: '0.1', serverVersion: '3.4.3', toolVersion: 'r3.4.3' });
    expect(summary.namespaces).toEqual([
      { db: 'test', collection: 'bar', type: 'collection', documents: 1, bytes: 35, ended: true, crcMatches: true },
      { db: 'admin', collection: 'system.version', type: 'collection', documents: 1, bytes: 59, ended: true, crcMatches: true },
    ]);
  });

  it('timeseries.archive: the time-series collection and its 10 bucket documents', () => {
    const summary = read('timeseries.archive', 4096);
    expect(summary.problems).toEqual([]);
    const byName = Object.fromEntries(summary.namespaces.map((namespace) => [`${namespace.db}.${namespace.collection}`, namespace]));
    expect(byName['timeseries_test.foo_ts'].type).toBe('timeseries');
    expect(byName['timeseries_test.system.buckets.foo_ts']).toMatchObject({ documents: 10, crcMatches: true });
  });

  it('bad-format.archive: the invalid metadata is reported, not a crash', () => {
    expect(read('bad-format.archive').problems).toEqual(['the metadata of test.ixtest is not valid Extended JSON']);
  });

  it('a flipped bit inside a document fails the CRC of its namespace', () => {
    const bytes = Buffer.from(readFileSync(`${FIXTURES}test.bar.archive`));
    const documentStart = bytes.indexOf(Buffer.from([35, 0, 0, 0, 0x07, 0x5f, 0x69, 0x64])); // the 35-byte test.bar document
    expect(documentStart).toBeGreaterThan(0);
    bytes[documentStart + 20] ^= 0x01;
    const reader = new MongoArchiveReader();
    reader.push(bytes);
    expect(reader.finish().problems).toEqual(['test.bar fails its CRC-64 check']);
  });

  it('a truncated archive is reported as ending mid-document', () => {
    const bytes = readFileSync(`${FIXTURES}test.bar.archive`);
    const reader = new MongoArchiveReader();
    reader.push(bytes.subarray(0, bytes.length - 30));
    expect(reader.finish().problems).toContain('the mongodump archive ends in the middle of a document');
  });

  it('something that is not an archive is named as such', () => {
    const reader = new MongoArchiveReader();
    reader.push(Buffer.from('hello world, not bson'));
    expect(reader.finish().problems[0]).toMatch(/not a mongodump archive/);
  });

  it('CRC-64 matches the standard check value', () => {
    expect(Crc64.ecma().update(Buffer.from('123456789')).digest()).toBe(0x995dc9bbdf1939fan);
  });
});

describe('database remapping', () => {
  it('always scopes with --nsInclude, and adds --nsFrom/--nsTo only when names differ', () => {
    expect(remapArguments('orkestra', 'orkestra')).toEqual(['--nsInclude=orkestra.*']);
    expect(remapArguments('prod', 'staging')).toEqual(['--nsInclude=prod.*', '--nsFrom=prod.*', '--nsTo=staging.*']);
    expect(targetNamespace('prod', 'users', 'prod', 'staging')).toBe('staging.users');
    expect(targetNamespace('admin', 'system.version', 'prod', 'staging')).toBeUndefined();
  });

  it('validates database names', () => {
    expect(isValidDatabaseName('orkestra_2')).toBe(true);
    for (const bad of ['', 'a.b', 'a b', 'a/b', 'a$b', 'x'.repeat(64)]) expect(isValidDatabaseName(bad)).toBe(false);
  });
});
