import { UsageError } from '../../base/errors.js';
import { shellWord } from '../../base/format.js';
import type { Component } from '../component.js';
import type { SelectorValues } from '../restoreSelection.js';

/** One component's selector flags in a drill, by flag name, values in the order given. */
export type DrillSelection = Readonly<Record<string, readonly string[]>>;

/**
 * Refuses (exit 2, before any copy is started) the selector flags a drill cannot honour: a flag
 * that restores beside (a drill always restores beside, into throwaway copies) and one its
 * declaration says means nothing in a drill. A flag no candidate declares is left to the
 * restore's own refusal.
 */
export function refuseDrillFlags(candidates: readonly Component[], given: SelectorValues): void {
  for (const [flag, values] of Object.entries(given)) {
    if (values.length === 0) continue;
    const declared = candidates.flatMap((component) => component.selectors ?? []).find((selector) => selector.flag === flag);
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
  }
}

/**
 * Refuses (exit 2) a selection of a component whose drill cannot check one: its checks would judge
 * a whole restore. Nor is a component with no drill at all taken: nothing would check its selection,
 * and a drill of nothing would pass.
 */
export function refuseUncheckedSelection(selected: readonly Component[]): void {
  const undrilled = selected.filter((component) => !component.drill).map((component) => component.name);
  if (undrilled.length > 0) {
    throw new UsageError(`a drill cannot restore ${undrilled.join(', ')} into a throwaway copy: nothing would check the selection.`, {
      hint: `Leave its selectors out (restore --dry-run shows what they pick). Nothing was started.`,
    });
  }
  const unchecked = selected.filter((component) => component.drill && !component.drill.checksSelection);
  if (unchecked.length === 0) return;
  const names = unchecked.map((component) => component.name).join(', ');
  throw new UsageError(`a drill cannot check a selection of ${names}: its selectors are for restore only.`, {
    hint: `Drill ${names} whole (no selector). Nothing was started.`,
  });
}

/** A drill's -c goes with selectors: it names the component a selector picks from (a drill without them drills every component). */
export function refuseComponentsWithoutSelectors(requested: string | undefined, given: SelectorValues): void {
  if (requested === undefined || Object.values(given).some((values) => values.length > 0)) return;
  throw new UsageError('drill -c goes with a selector: it names the component the selector picks from.', {
    hint: 'Example: drill latest -c secrets --files .env; leave -c out to drill every component. Nothing was started.',
  });
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
    .flatMap(([flag, values]) => values.map((value) => (takesValue(flag) ? `--${flag} ${shellWord(value)}` : `--${flag}`)))
    .join(' ');
}
