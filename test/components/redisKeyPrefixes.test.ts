import { describe, expect, it } from 'vitest';
import { databaseLine, KeyPrefixes } from '../../src/components/redis/keyPrefixes.js';

describe('Redis key prefixes in the inspect summary', () => {
  it('counts prefixes up to the first ":" per database, the ten most common first; a ":" far into a key ends no prefix', () => {
    const prefixes = new KeyPrefixes();
    const keysPerDb = new Map<number, number>();
    const add = (db: number, key: string) => {
      prefixes.add(db, Buffer.from(key));
      keysPerDb.set(db, (keysPerDb.get(db) ?? 0) + 1);
    };
    for (let index = 0; index < 12; index += 1) for (let count = 0; count <= index; count += 1) add(0, `p${index}:${count}`);
    add(0, 'plain');
    add(0, `${'x'.repeat(150)}:late`);
    add(5, 'session:a:b');
    const databases = prefixes.databases(keysPerDb);
    expect(databases.map(({ db, keys }) => [db, keys])).toEqual([
      [0, 80],
      [5, 1],
    ]);
    expect(databases[0].prefixes).toHaveLength(10);
    expect(databases[0].prefixes.slice(0, 2)).toEqual([
      { prefix: 'p11:', keys: 12 },
      { prefix: 'p10:', keys: 11 },
    ]);
    expect(databases[1].prefixes).toEqual([{ prefix: 'session:', keys: 1 }]);
    expect(prefixes.approximate).toBe(false);
    expect(databaseLine(databases[1], false)).toBe('database 5: 1 key; most common prefixes: session: 1');
    expect(databaseLine({ db: 2, keys: 3, prefixes: [{ prefix: '', keys: 3 }] }, true)).toBe(
      'database 2: 3 keys; most common prefixes: (no prefix) ≥3',
    );
  });
});
