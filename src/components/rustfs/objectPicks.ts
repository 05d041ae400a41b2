import type { PickedItem, PickedSelectors } from '../../core/component.js';

/**
 * `--objects` for picked objects and buckets: `BUCKET/KEY` per object, `BUCKET` for a whole one.
 * `--objects` takes a key prefix, which has no special characters to escape but also takes the
 * keys that start with a picked key (`a.txt` takes `a.txt.bak`): the note says so, the dry run counts them.
 */
export function pickObjects(picks: readonly PickedItem[]): PickedSelectors {
  const whole = new Set(picks.filter((pick) => pick.item === undefined).map((pick) => pick.group));
  const objects = picks.filter((pick) => pick.item !== undefined && !whole.has(pick.group)).map((pick) => `${pick.group}/${pick.item}`);
  return {
    flags: { objects: [...whole, ...new Set(objects)] },
    note: objects.length > 0 ? '--objects takes every object whose key starts with a picked key; the dry run counts them' : undefined,
  };
}
