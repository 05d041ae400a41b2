import { UsageError } from '../base/errors.js';
import type { Component, ComponentKind, DefinitionOrigin, RestoreSelector } from '../core/component.js';
import { restoreSelectorsOf } from '../core/restoreSelection.js';
import { fieldPath, PROJECT_CONFIG_FILE, type CanaryKinds, type ProjectConfig } from '../core/projectConfig.js';
import { directoryKind } from './directory/index.js';
import { volumeKind } from './volume/index.js';
import { mongodb } from './mongodb/index.js';
import { redis } from './redis/index.js';
import { rustfs } from './rustfs/index.js';
import { secrets } from './secrets/index.js';

/** The built-in components, in the order they are backed up and restored: the one list a new component joins. */
export const COMPONENTS: readonly Component[] = [mongodb, redis, rustfs, secrets];

/** The canaries orkestra-backup.json may declare: those of the built-in components that answer one in a drill. */
export const CANARY_KINDS: CanaryKinds = COMPONENTS.flatMap((component) =>
  component.drill?.canary ? [{ component: component.name, kind: component.drill.canary }] : [],
);

/** The kinds of component orkestra-backup.json may declare. A new kind is one folder and one entry here. */
export const COMPONENT_KINDS: readonly ComponentKind<never>[] = [directoryKind as ComponentKind<never>, volumeKind as ComponentKind<never>];

/** Every restore selector flag the components and the kinds declare, once each: what `restore` parses and --help lists. */
export const RESTORE_SELECTORS: readonly RestoreSelector[] = restoreSelectorsOf([...COMPONENTS, ...COMPONENT_KINDS]);

/** What takes a selector flag, for --help: built-in components by name, kinds as `<kind> components`. */
export function selectorOwners(flag: string): string[] {
  const takes = (declaring: { selectors?: readonly RestoreSelector[] }) => declaring.selectors?.some((selector) => selector.flag === flag);
  return [
    ...COMPONENTS.filter(takes).map((component) => component.name),
    ...COMPONENT_KINDS.filter(takes).map((kind) => `${kind.kind} components`),
  ];
}

/** The project's components: the built-in ones, then those its orkestra-backup.json declares, in the file's order. */
export function projectComponents(config: ProjectConfig): Component[] {
  const file = config.path ?? PROJECT_CONFIG_FILE;
  const configured = Object.entries(config.components).map(([name, entry]) => {
    const fail = (field: string, message: string) =>
      new UsageError(`${file}: components.${name}${field}: ${message}.`, {
        hint: 'See docs/configuration.md. Nothing was touched.',
      });
    if (COMPONENTS.some((component) => component.name === name))
      throw fail('', `"${name}" is a built-in component; give yours another name`);
    return fromDefinition(name, entry, 'project', fail);
  });
  return [...COMPONENTS, ...configured];
}

/**
 * A configured component of an archive, made from the definition its backup recorded in the
 * manifest (`details.<name>.definition`), for a host whose configuration lacks it; undefined when
 * the archive records none this version knows.
 */
export function archivedComponent(name: string, details: unknown): Component | undefined {
  const definition = (details as { definition?: { kind?: unknown } } | undefined)?.definition;
  if (typeof definition?.kind !== 'string') return undefined;
  try {
    return fromDefinition(name, definition as { kind: string }, 'archive', (field, message) => new UsageError(`${field} ${message}`));
  } catch {
    return undefined;
  }
}

function fromDefinition(
  name: string,
  entry: { kind: string } & Record<string, unknown>,
  origin: DefinitionOrigin,
  fail: (field: string, message: string) => UsageError,
): Component {
  const kind = COMPONENT_KINDS.find((candidate) => candidate.kind === entry.kind);
  if (!kind) throw fail('.kind', `unknown kind "${entry.kind}" (one of: ${COMPONENT_KINDS.map((known) => known.kind).join(', ')})`);
  const { kind: _kind, ...fields } = entry;
  void _kind;
  const parsed = kind.schema.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw fail(issue.path.length > 0 ? `.${fieldPath(issue.path)}` : '', issue.message);
  }
  const component = kind.create(name, parsed.data, origin);
  return kind.pickSelectors && !component.pickSelectors ? { ...component, pickSelectors: kind.pickSelectors } : component;
}
