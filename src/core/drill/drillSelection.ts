import { UsageError } from '../../base/errors.js';
import type { Component } from '../component.js';
import type { SelectorValues } from '../restoreSelection.js';

/** One component's selector flags in a drill, by flag name, values in the order given. */
export type DrillSelection = Readonly<Record<string, readonly string[]>>;

/**
 * Refuses (exit 2, before any copy is started) the selector flags a drill cannot honour: a flag
 * that restores beside (a drill always restores beside, into throwaway copies), one its declaration
 * says means nothing in a drill, and one of a component whose drill cannot check a selection.
 * A flag no candidate declares is left to the restore's own refusal.
 */
export function refuseDrillSelectors(candidates: readonly Component[], given: SelectorValues): void {
  for (const [flag, values] of Object.entries(given)) {
    if (values.length === 0) continue;
    const owners = candidates.filter((component) => component.selectors?.some((selector) => selector.flag === flag));
    const declared = owners.flatMap((component) => component.selectors ?? []).find((selector) => selector.flag === flag);
    if (declared === undefined) continue;
    if (declared.beside) {
      throw new UsageError(
        `--${flag} restores beside the live target, and a drill always restores beside: into throwaway copies, never the live stack.`,
        { hint: `Leave --${flag} out: the drill restores the selection into its copies and checks it there. Nothing was started.` },
      );
    }
    if (declared.notInDrill !== undefined) {
      throw new UsageError(`--${flag} means nothing in a drill: ${declared.notInDrill}.`, {
        hint: `Leave --${flag} out. Nothing was started.`,
      });
    }
    const unchecked = owners.filter((component) => component.drill && !component.drill.checksSelection);
    if (unchecked.length > 0) {
      const names = unchecked.map((component) => component.name).join(', ');
      throw new UsageError(`a drill cannot check a selection of ${names}: --${flag} is for restore only.`, {
        hint: `Drill ${names} whole (leave --${flag} out). Nothing was started.`,
      });
    }
  }
}

/** The flags of `given` a component declares: its selection, once `narrowToSelection` made it the one owner of each. */
export function selectionOf(component: Component, given: SelectorValues): DrillSelection {
  return Object.fromEntries(
    Object.entries(given).filter(([flag, values]) => values.length > 0 && component.selectors?.some((selector) => selector.flag === flag)),
  );
}

/** A component's selection as the command line gives it: `--keys 'session:*' --db 0`. */
export function selectionText(component: Component, selection: DrillSelection): string {
  const takesValue = (flag: string) => component.selectors?.find((selector) => selector.flag === flag)?.value !== undefined;
  return Object.entries(selection)
    .flatMap(([flag, values]) => values.map((value) => (takesValue(flag) ? `--${flag} ${quoted(value)}` : `--${flag}`)))
    .join(' ');
}

function quoted(value: string): string {
  return /^[\w./:@=+-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}
