import { afterAll, describe, expect, it } from 'vitest';
import { redisGlobMatches } from '../../src/redis/keyGlob.js';
import { hasRedisServer, startHostRedis, stopHostRedis } from '../helpers/hostRedis.js';

const KEYS = [
  'session:1',
  'session:12',
  'session:',
  'sessions',
  'user:1',
  'a*b',
  'a?b',
  'axb',
  'a[b',
  'a]b',
  'a-b',
  'a^b',
  'a\\b',
  'h',
  'hello',
  'hallo',
  'hxllo',
  'héllo',
];
const PATTERNS = [
  'session:*',
  'session:?',
  '*',
  '?',
  'h?llo',
  'h*llo',
  'h[ae]llo',
  'h[^e]llo',
  'h[a-b]llo',
  'h[b-a]llo',
  'a\\*b',
  'a\\?b',
  'a[*?]b',
  'a[\\]]b',
  'a[-]b',
  'a[^]b',
  'a[b',
  'a\\\\b',
  '**',
  'session:**1',
  'h[',
  's*s',
  '*:*',
  'h\\',
];

afterAll(stopHostRedis);

describe('Redis key globs', () => {
  it('match as Redis documents them', () => {
    const matches = (pattern: string, key: string) => redisGlobMatches(Buffer.from(pattern), Buffer.from(key));
    expect(matches('session:*', 'session:12')).toBe(true);
    expect(matches('session:*', 'sessions')).toBe(false);
    expect(matches('h?llo', 'hello')).toBe(true);
    expect(matches('h[^e]llo', 'hello')).toBe(false);
    expect(matches('h[^e]llo', 'hallo')).toBe(true);
    expect(matches('h[a-b]llo', 'hallo')).toBe(true);
    expect(matches('a\\*b', 'a*b')).toBe(true);
    expect(matches('a\\*b', 'axb')).toBe(false);
  });

  it.skipIf(!hasRedisServer)('pick exactly the keys KEYS picks on a real server (redis-server on the host)', async () => {
    const server = await startHostRedis();
    for (const key of KEYS) server.cli('SET', key, 'v');
    for (const pattern of PATTERNS) {
      const listed = server
        .cli('KEYS', pattern)
        .split('\n')
        .filter((line) => line !== '')
        .sort();
      const picked = KEYS.filter((key) => redisGlobMatches(Buffer.from(pattern), Buffer.from(key))).sort();
      expect(picked, pattern).toEqual(listed);
    }
  });
});
