import { posix } from 'node:path';

/** Where a live Redis keeps its files: differs by image (redis-stack: `/`, stock redis: `/data`). */
export interface RedisLayout {
  dir: string;
  dbfilename: string;
  appenddirname: string;
  appendfilename: string;
  appendonly: boolean;
}

const LAYOUT_KEYS = ['dir', 'dbfilename', 'appenddirname', 'appendfilename', 'appendonly'] as const;

/** `CONFIG GET a b c` prints name/value lines in pairs. */
export function parseConfigPairs(output: string): Record<string, string> {
  const lines = output.replace(/\r/g, '').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const pairs: Record<string, string> = {};
  for (let index = 0; index + 1 < lines.length; index += 2) pairs[lines[index]] = lines[index + 1];
  return pairs;
}

export function layoutFromConfig(pairs: Record<string, string>): RedisLayout {
  const dir = pairs.dir;
  if (!dir || !dir.startsWith('/')) throw new Error(`Redis reported no usable dir (${JSON.stringify(dir ?? null)})`);
  return {
    dir,
    dbfilename: pairs.dbfilename || 'dump.rdb',
    // Redis 6 and older have no appenddirname: the AOF is a single file in dir.
    appenddirname: pairs.appenddirname || 'appendonlydir',
    appendfilename: pairs.appendfilename || 'appendonly.aof',
    appendonly: pairs.appendonly === 'yes',
  };
}

export function rdbPath(layout: RedisLayout): string {
  return posix.join(layout.dir, layout.dbfilename);
}

export function aofDirPath(layout: RedisLayout): string {
  return posix.join(layout.dir, layout.appenddirname);
}

/** `redis/redis-layout.txt`: one `key=value` line per setting, readable by people and by restore. */
export function formatLayout(layout: RedisLayout): string {
  return LAYOUT_KEYS.map((key) => `${key}=${key === 'appendonly' ? (layout.appendonly ? 'yes' : 'no') : layout[key]}`).join('\n') + '\n';
}

export function parseLayout(text: string): RedisLayout | undefined {
  const pairs: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const equals = line.indexOf('=');
    if (equals > 0) pairs[line.slice(0, equals).trim()] = line.slice(equals + 1).trim();
  }
  try {
    return layoutFromConfig(pairs);
  } catch {
    return undefined;
  }
}

/** `INFO persistence` as a map of its `field:value` lines. */
export function parseInfo(output: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of output.replace(/\r/g, '').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/**
 * The AOF manifest that makes Redis 7 load an RDB file as the base of its append-only file:
 * used when the live server runs with appendonly yes but the backup holds only an RDB.
 */
export function baseOnlyAofManifest(baseFile: string): string {
  return `file ${baseFile} seq 1 type b\n`;
}
