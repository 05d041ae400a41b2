import { exactGlob } from '../filePicks.js';
import type { PickedItem, PickedSelectors } from '../../core/component.js';

/**
 * `--ns database.collection` for picked collections, each part escaped as a picomatch glob (the
 * database before the first dot, as --ns splits it); a whole database is `database.**`.
 */
export function pickCollections(picks: readonly PickedItem[]): PickedSelectors {
  const databases = new Set(picks.map((pick) => pick.group));
  if (databases.size > 1)
    return { refused: `a MongoDB restore takes the archive's one database, and these come from ${[...databases].join(', ')}.` };
  const ns = new Set(picks.map(({ group, item }) => `${exactGlob(group)}.${item === undefined ? '**' : exactGlob(item)}`));
  const whole = [...ns].find((pattern) => pattern.endsWith('.**'));
  return { flags: { ns: whole === undefined ? [...ns] : [whole] } };
}
