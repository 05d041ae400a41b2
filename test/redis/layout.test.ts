import { describe, expect, it } from 'vitest';
import { aofDirPath, formatLayout, layoutFromConfig, parseConfigPairs, parseInfo, parseLayout, rdbPath } from '../../src/redis/layout.js';

describe('redis layout', () => {
  it('reads CONFIG GET output of the stock image and of redis-stack', () => {
    const stock = layoutFromConfig(parseConfigPairs('dir\n/data\ndbfilename\ndump.rdb\nappenddirname\nappendonlydir\nappendonly\nyes\n'));
    expect(rdbPath(stock)).toBe('/data/dump.rdb');
    expect(aofDirPath(stock)).toBe('/data/appendonlydir');
    const stack = layoutFromConfig(parseConfigPairs('dir\n/\ndbfilename\ndump.rdb\n'));
    expect(rdbPath(stack)).toBe('/dump.rdb');
    expect(stack.appendonly).toBe(false);
  });

  it('refuses a layout without an absolute dir', () => {
    expect(() => layoutFromConfig({})).toThrow(/no usable dir/);
    expect(() => layoutFromConfig({ dir: 'relative' })).toThrow(/no usable dir/);
  });

  it('writes redis-layout.txt and reads it back', () => {
    const layout = { dir: '/', dbfilename: 'x.rdb', appenddirname: 'aof', appendfilename: 'a.aof', appendonly: true };
    expect(formatLayout(layout)).toBe('dir=/\ndbfilename=x.rdb\nappenddirname=aof\nappendfilename=a.aof\nappendonly=yes\n');
    expect(parseLayout(formatLayout(layout))).toEqual(layout);
    expect(parseLayout('garbage')).toBeUndefined();
  });

  it('parses INFO persistence, ignoring section headers', () => {
    expect(parseInfo('# Persistence\r\nloading:0\r\nrdb_saves:3\r\n')).toEqual({ loading: '0', rdb_saves: '3' });
  });
});
