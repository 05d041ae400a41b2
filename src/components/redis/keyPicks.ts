import type { PickedItem, PickedSelectors } from '../../core/component.js';

/** Every character a Redis glob reads as more than itself (SCAN MATCH), escaped with `\`. */
const REDIS_GLOB_SPECIAL = /[\\*?[\]]/g;

/** A key as a Redis glob that matches exactly that key. */
export function exactRedisGlob(key: string): string {
  return key.replace(REDIS_GLOB_SPECIAL, '\\$&');
}

/**
 * `--db` and `--keys` for picked keys: one database per restore (`--db` takes one), each key
 * escaped; a whole database is `--db` alone. Keys of two databases are refused: run one restore each.
 */
export function pickKeys(picks: readonly PickedItem[]): PickedSelectors {
  const databases = [...new Set(picks.map((pick) => pick.group))];
  if (databases.length > 1) {
    return {
      refused: `Redis keys are restored from one database per restore (--db), and these come from databases ${databases.join(', ')}: pick from one, then restore the others in another run.`,
    };
  }
  const db = databases[0];
  if (db === undefined) return { flags: {} };
  // A key that is not UTF-8 text is listed with U+FFFD in place of its bytes: its glob would take
  // another key (one that holds U+FFFD itself) or none.
  const unreadable = picks.find((pick) => pick.item?.includes('\uFFFD'));
  if (unreadable !== undefined) {
    return {
      refused: `the key ${JSON.stringify(unreadable.item)} is not UTF-8 text, so its name as listed is not its name: pick it with --keys on the command line, checked with --dry-run.`,
    };
  }
  if (picks.some((pick) => pick.item === undefined)) return { flags: { db: [db] } };
  return { flags: { db: [db], keys: [...new Set(picks.map((pick) => exactRedisGlob(pick.item!)))] } };
}
