import { BoundedCounts } from '../../base/boundedCounts.js';
import { plural } from '../../base/format.js';

/** How many prefixes are shown per database. */
const SHOWN_PREFIXES = 10;
/** Counters held for all databases together (each at most a short prefix): memory stays bounded whatever the keys. */
const COUNTERS = 4096;
/** A ':' further in than this does not end a prefix (a key's bytes are not held for it). */
const LONGEST_PREFIX = 100;
const COLON = 0x3a;

export interface DatabaseKeys {
  readonly db: number;
  readonly keys: number;
  /** The most common prefixes (up to and including the first ':'; "" for keys without one), most keys first. */
  readonly prefixes: { prefix: string; keys: number }[];
}

/**
 * The most common key prefixes of each database, as selectors would pick them (`--keys 'session:*'`):
 * the text up to the first ':'. Counted in bounded memory; `approximate` says whether a count may
 * fall short (more distinct prefixes than counters).
 */
export class KeyPrefixes {
  private readonly counts = new BoundedCounts(COUNTERS);

  readonly add = (db: number, key: Buffer): void => {
    const colon = key.subarray(0, LONGEST_PREFIX).indexOf(COLON);
    this.counts.add(`${db} ${colon === -1 ? '' : key.subarray(0, colon + 1).toString('utf8')}`);
  };

  get approximate(): boolean {
    return this.counts.shortBy > 0;
  }

  databases(keysPerDb: ReadonlyMap<number, number>): DatabaseKeys[] {
    const byDb = new Map<number, { prefix: string; keys: number }[]>();
    for (const { name, count } of this.counts.sorted()) {
      const space = name.indexOf(' ');
      const db = Number(name.slice(0, space));
      const list = byDb.get(db) ?? [];
      if (list.length < SHOWN_PREFIXES) list.push({ prefix: name.slice(space + 1), keys: count });
      byDb.set(db, list);
    }
    return [...keysPerDb].sort(([a], [b]) => a - b).map(([db, keys]) => ({ db, keys, prefixes: byDb.get(db) ?? [] }));
  }
}

/** `database 0: 1,204 keys; prefixes session: 800, user: 300, (none) 4`. */
export function databaseLine({ db, keys, prefixes }: DatabaseKeys, approximate: boolean): string {
  const shown = prefixes.map(
    ({ prefix, keys: count }) => `${prefix === '' ? '(no prefix)' : prefix} ${approximate ? '≥' : ''}${count.toLocaleString('en-US')}`,
  );
  return `database ${db}: ${plural(keys, 'key')}${shown.length > 0 ? `; most common prefixes: ${shown.join(', ')}` : ''}`;
}
