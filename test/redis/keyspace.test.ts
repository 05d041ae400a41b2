import { describe, expect, it } from 'vitest';
import { keysPerDatabase, totalKeys } from '../../src/redis/keyspace.js';

describe('keys per Redis database from INFO keyspace', () => {
  it('reads every dbN line, and nothing else', () => {
    const info = '# Keyspace\r\ndb0:keys=1204,expires=3,avg_ttl=0,subexpiry=0\r\ndb3:keys=5,expires=0,avg_ttl=0\r\ndbx:keys=9\r\n';
    expect(keysPerDatabase(info)).toEqual({ '0': 1204, '3': 5 });
    expect(totalKeys(keysPerDatabase(info))).toBe(1209);
  });

  it('an empty server lists no database', () => {
    expect(keysPerDatabase('# Keyspace\r\n')).toEqual({});
  });
});
