import type { PickedItem, PickedSelectors } from '../core/component.js';

/** Every character picomatch reads as more than itself (`"` quotes), each escaped with a backslash (as picomatch reads `\*`). */
const GLOB_SPECIAL = /[\\*?[\]{}()!+@|,^$"]/g;

/**
 * A backslash of a name, as a class of the backslash alone: picomatch folds a run of escaped
 * backslashes (`\\\\`) into one, so a name with two would match one that has a single backslash.
 */
const BACKSLASH_CLASS = '[\\\\-\\\\]';

/** A name as a picomatch glob that matches exactly that name; a leading `./`, which picomatch drops, is escaped too. */
export function exactGlob(name: string): string {
  return name.replace(GLOB_SPECIAL, (special) => (special === '\\' ? BACKSLASH_CLASS : `\\${special}`)).replace(/^\.\//, '\\./');
}

/**
 * `--files` for picks of a component whose data is files: each picked file by its exact path, a
 * whole folder by `**` (every file). `groupPath`: the path --files gives a group's files when it
 * leads them (a directory component with several folders), else undefined.
 */
export function pickFiles(
  picks: readonly PickedItem[],
  groupPath: (group: string) => string | undefined = () => undefined,
): PickedSelectors {
  const files = new Set<string>();
  for (const { group, item } of picks) {
    const lead = groupPath(group);
    const inside = item === undefined ? '**' : exactGlob(item);
    files.add(lead === undefined ? inside : item === undefined ? exactGlob(lead) : `${exactGlob(lead)}/${inside}`);
  }
  return files.has('**') ? { flags: { files: ['**'] } } : { flags: { files: [...files] } };
}
