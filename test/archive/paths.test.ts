import { describe, expect, it } from 'vitest';
import { componentOf, componentPath, normalizeEntryPath, pathInComponent } from '../../src/archive/paths.js';

describe('archive paths', () => {
  it.each([
    ['secrets/.env', 'secrets/.env'],
    ['./secrets/keys/jwt.pem', 'secrets/keys/jwt.pem'],
    ['rustfs/my.bucket/a b/ü.txt', 'rustfs/my.bucket/a b/ü.txt'],
    ['redis/appendonlydir/', 'redis/appendonlydir'],
  ])('accepts %s', (raw, expected) => {
    expect(normalizeEntryPath(raw)).toEqual({ path: expected });
  });

  it.each([
    ['/etc/passwd', /absolute/],
    ['secrets/../../etc/passwd', /escaping/],
    ['..', /escaping/],
    ['secrets//.env', /empty/],
    ['secrets/./.env', /empty/],
    ['secrets\\..\\x', /backslash/],
    ['C:/x', /absolute/],
  ])('refuses %s', (raw, problem) => {
    const result = normalizeEntryPath(raw);
    expect('problem' in result && result.problem).toMatch(problem);
  });

  it('splits a path into component and inner path', () => {
    expect(componentOf('redis/appendonlydir/a.aof')).toBe('redis');
    expect(pathInComponent('redis/appendonlydir/a.aof')).toBe('appendonlydir/a.aof');
    expect(componentOf('manifest.json')).toBeUndefined();
  });

  it('never lets a component write outside its folder', () => {
    expect(componentPath('secrets', 'keys/a.pem')).toBe('secrets/keys/a.pem');
    expect(() => componentPath('secrets', '../redis/dump.rdb')).toThrow(/refusing/);
    expect(() => componentPath('secrets', '/etc/passwd')).not.toThrow(); // joined under the folder
    expect(componentPath('secrets', '/etc/passwd')).toBe('secrets/etc/passwd');
  });
});
