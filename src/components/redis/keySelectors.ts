import { UsageError } from '../../base/errors.js';
import type { RestoreSelection, RestoreSelector } from '../../core/component.js';
import type { KeySelection } from '../../redis/keySelection.js';

/** The restore selectors of Redis: keys by glob and database, restored in place or into another database. */
export const REDIS_SELECTORS: readonly RestoreSelector[] = [
  {
    flag: 'keys',
    value: 'GLOB',
    repeatable: true,
    help: "only the Redis keys matching GLOB, as SCAN MATCH reads it ('session:*')",
  },
  { flag: 'db', value: 'N', repeatable: false, help: "pick Redis keys from the backup's database N only (default: every database)" },
  {
    flag: 'to-db',
    value: 'N',
    repeatable: false,
    beside: true,
    help: 'restore the picked Redis keys into database N instead (needs --db); database --db is not touched',
  },
  {
    flag: 'delete-missing',
    repeatable: false,
    help: 'also delete the Redis keys matching now that the backup lacks (their values are kept first)',
    notInDrill: "a drill's copy starts empty: it holds no key the backup lacks",
  },
];

/** The selection the flags give; bad numbers and a --to-db without --db (or equal to it) are refused, exit 2. */
export function keySelectionOf(selection: RestoreSelection): KeySelection {
  const { flags } = selection;
  const db = databaseNumber(flags.db?.[0], 'db');
  const toDb = databaseNumber(flags['to-db']?.[0], 'to-db');
  if (toDb !== undefined && db === undefined) {
    throw new UsageError('--to-db needs --db: the database of the backup the keys are picked from.', {
      hint: `Add --db N (the backup's database, often 0). Nothing was touched.`,
    });
  }
  if (toDb !== undefined && toDb === db) {
    throw new UsageError(`--to-db ${toDb} is the database the keys come from: that is a restore in place.`, {
      hint: 'Leave --to-db out to restore in place, or name another database. Nothing was touched.',
    });
  }
  return { globs: flags.keys ?? [], db, toDb, deleteMissing: flags['delete-missing'] !== undefined };
}

function databaseNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value.trim())) {
    throw new UsageError(`--${flag} needs a database number (0, 1, …), not "${value}".`, { hint: 'Nothing was touched.' });
  }
  return Number(value.trim());
}
