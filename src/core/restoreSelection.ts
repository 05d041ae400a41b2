import { UsageError } from '../base/errors.js';
import type { Component, RestorePlan, RestoreSelection, RestoreSelector } from './component.js';

/** The selector flags given on the command line, by flag name (without dashes), values in the order given. */
export type SelectorValues = Readonly<Record<string, readonly string[]>>;

/** Anything that declares restore selectors: a component, or a kind of configured component. */
interface Declaring {
  readonly selectors?: readonly RestoreSelector[];
}

/**
 * Every selector flag the declarations hold, once each, in the order first declared. Two
 * declarations of one flag must agree on how it is parsed (its value, whether it repeats, whether
 * it restores beside): a flag means one thing on the command line.
 */
export function restoreSelectorsOf(declaring: readonly Declaring[]): RestoreSelector[] {
  const flags = new Map<string, RestoreSelector>();
  for (const selector of declaring.flatMap((entry) => entry.selectors ?? [])) {
    const known = flags.get(selector.flag);
    if (known === undefined) flags.set(selector.flag, selector);
    else if (
      known.value !== selector.value ||
      known.repeatable !== selector.repeatable ||
      Boolean(known.beside) !== Boolean(selector.beside)
    ) {
      throw new Error(`restore selector --${selector.flag} is declared twice, differently`);
    }
  }
  return [...flags.values()];
}

/**
 * A restore given selectors restores only the components that have a selection, each narrowed
 * to it. Each flag goes to the one component of `candidates` that declares it; refused (exit 2,
 * nothing touched) when no candidate or more than one declares a flag given, or when `--components`
 * names a component no selector given applies to. Without selectors, `candidates` unchanged.
 */
export function narrowToSelection(candidates: readonly Component[], given: SelectorValues, requested: string | undefined): Component[] {
  const flags = Object.entries(given).filter(([, values]) => values.length > 0);
  if (flags.length === 0) return [...candidates];
  const selections = new Map<string, Record<string, readonly string[]>>();
  for (const [flag, values] of flags) {
    const owners = candidates.filter((component) => component.selectors?.some((selector) => selector.flag === flag));
    if (owners.length === 0) {
      throw new UsageError(`--${flag} applies to no component of this restore.`, {
        hint: `${requested === undefined ? 'Components of the archive' : `-c ${requested}`}: ${candidates.map((c) => c.name).join(', ') || 'none'}; --${flag} picks from a component that declares it (orkestra-backup restore --help). Nothing was touched.`,
      });
    }
    if (owners.length > 1) {
      const names = owners.map((component) => component.name);
      throw new UsageError(`--${flag} could apply to ${names.join(', ')}: name the one it picks from.`, {
        hint: `Add -c ${names[0]} (one of ${names.join(', ')}). Nothing was touched.`,
      });
    }
    const owner = owners[0].name;
    selections.set(owner, { ...selections.get(owner), [flag]: values });
  }
  const unselected = requested === undefined ? [] : candidates.filter((component) => !selections.has(component.name));
  if (unselected.length > 0) {
    const names = unselected.map((component) => component.name).join(', ');
    throw new UsageError(
      `-c names ${names}, which no selector given picks from: a restore with selectors restores only what they select.`,
      {
        hint: `Leave ${names} out of -c, or restore ${unselected.length === 1 ? 'it' : 'them'} whole in a run of ${unselected.length === 1 ? 'its' : 'their'} own. Nothing was touched.`,
      },
    );
  }
  return candidates.flatMap((component) => {
    const chosen = selections.get(component.name);
    return chosen === undefined ? [] : [selecting(component, chosen)];
  });
}

/** Components narrowed to a selection by `narrowToSelection`, with it. */
const narrowed = new WeakMap<Component, RestoreSelection>();

/** The selection a component restores, when `narrowToSelection` narrowed it to one. */
export function selectionOf(component: Component): RestoreSelection | undefined {
  return narrowed.get(component);
}

/** The component with its selection handed to its plan, its restore and its drill's check; a plan that ignores it is refused. */
function selecting(component: Component, flags: Readonly<Record<string, readonly string[]>>): Component {
  const beside = Object.keys(flags).some((flag) => component.selectors?.some((selector) => selector.flag === flag && selector.beside));
  const selection: RestoreSelection = { flags, beside };
  const chosen: Component = {
    ...component,
    async planRestore(context) {
      const plan: RestorePlan = await component.planRestore({ ...context, selection });
      if (plan.selection === undefined) throw new Error(`${component.name} declares restore selectors but planned a whole restore`);
      return plan;
    },
    restore: (context, plan) => component.restore({ ...context, selection }, plan),
    drill: component.drill && { ...component.drill, check: (context) => component.drill!.check({ ...context, selection }) },
  };
  narrowed.set(chosen, selection);
  return chosen;
}
