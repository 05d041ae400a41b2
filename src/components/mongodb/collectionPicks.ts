import { exactGlob } from '../filePicks.js';
import type { PickedItem, PickedSelectors } from '../../core/component.js';

/**
 * `--ns database.collection` for picked collections, each part escaped as a picomatch glob (the
 * database before the first dot, as --ns splits it); a whole database is `database.**`. Only the
 * backup's database is restored (`details.database`): picks of another one (the dump's `admin`)
 * are refused.
 */
export function pickCollections(picks: readonly PickedItem[], details: unknown): PickedSelectors {
  const archived = (details as { database?: unknown } | undefined)?.database;
  const databases = [...new Set(picks.map((pick) => pick.group))];
  const other = databases.find((database) => typeof archived === 'string' && database !== archived);
  if (other !== undefined) return { refused: `only the backup's database ${String(archived)} is restored, not ${other}.` };
  if (databases.length > 1) return { refused: `a MongoDB restore takes one database, and these come from ${databases.join(', ')}.` };
  const ns = new Set(picks.map(({ group, item }) => `${exactGlob(group)}.${item === undefined ? '**' : exactGlob(item)}`));
  const whole = [...ns].find((pattern) => pattern.endsWith('.**'));
  return { flags: { ns: whole === undefined ? [...ns] : [whole] } };
}
