import type { ComponentShape } from '../../model/shape.js';

/** Keys per database as a shape: a database that empties or disappears is an anomaly. */
export function keysShape(databases: Record<string, number>): ComponentShape {
  const groups = Object.fromEntries(Object.entries(databases).map(([database, keys]) => [database, { items: keys }]));
  return { items: 'keys', group: 'database', groups };
}
