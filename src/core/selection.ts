import type { Component } from './component.js';
import { UsageError } from '../base/errors.js';

/** Parses `--components a,b`: every name must be known; the result follows the canonical order. */
export function parseComponentList(csv: string, known: readonly Component[]): Component[] {
  const names = csv
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  const valid = known.map((component) => component.name).join(', ');
  if (names.length === 0) {
    throw new UsageError('--components needs at least one name.', { hint: `Valid components: ${valid}.` });
  }
  const unknown = names.filter((name) => !known.some((component) => component.name === name));
  if (unknown.length > 0) {
    const label = unknown.length === 1 ? 'component' : 'components';
    throw new UsageError(`unknown ${label}: ${unknown.join(', ')}.`, { hint: `Valid components: ${valid}.` });
  }
  return known.filter((component) => names.includes(component.name));
}
