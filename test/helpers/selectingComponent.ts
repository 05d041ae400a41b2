import type { Component, RestoreSelector } from '../../src/core/component.js';

export const FILES: RestoreSelector = { flag: 'files', value: 'PATH|GLOB', repeatable: true, help: 'files' };
export const KEYS: RestoreSelector = { flag: 'keys', value: 'GLOB', repeatable: true, help: 'keys' };

/** A component that touches nothing and takes the selectors given; its plan's totals are the selection it planned with. */
export function selectingComponent(name: string, selectors?: RestoreSelector[]): Component {
  return {
    name,
    title: name,
    selectors,
    availability: async () => ({ available: true }),
    backup: async () => ({}),
    planRestore: async (context) => ({
      actions: [],
      replaces: [],
      warnings: [],
      selection: context.selection && { totals: JSON.stringify(context.selection) },
    }),
    restore: async () => ({}),
    examine: async () => ({ facts: {}, lines: [], problems: [] }),
  };
}
