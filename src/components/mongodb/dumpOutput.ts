import type { NamespaceSummary } from '../../mongo/archive.js';
import type { ComponentShape } from '../../model/shape.js';

/** Documents per collection ("orkestra.users"), views aside: an emptied or vanished collection is an anomaly. */
export function dumpShape(namespaces: readonly NamespaceSummary[]): ComponentShape {
  const collections = namespaces.filter((namespace) => namespace.type !== 'view');
  const groups = Object.fromEntries(
    collections.map((namespace) => [`${namespace.db}.${namespace.collection}`, { items: namespace.documents, bytes: namespace.bytes }]),
  );
  return { items: 'documents', group: 'collection', groups };
}

/** mongorestore's per-namespace lines: `finished restoring orkestra.users (3 documents, 0 failures)`. */
export function reportedCounts(stderr: string): Record<string, { documents: number; failures: number }> {
  const counts: Record<string, { documents: number; failures: number }> = {};
  for (const match of stderr.matchAll(/finished restoring (\S+) \((\d+) documents?, (\d+) failures?\)/g)) {
    counts[match[1]] = { documents: Number(match[2]), failures: Number(match[3]) };
  }
  return counts;
}
