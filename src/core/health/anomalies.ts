import { formatBytes, printable } from '../../base/format.js';
import type { HealthSettings } from '../../model/health.js';
import type { Anomaly } from '../../model/history.js';
import { shapeItems, type ArchiveShape, type ComponentShape } from '../../model/shape.js';

/** One side of a comparison: what an archive held, and its size when known. */
export interface ComparedBackup {
  readonly shape?: ArchiveShape;
  readonly bytes?: number;
}

export interface ComparisonOptions {
  /** The two archives hold the same components (same split half): only then are their sizes comparable. */
  readonly sameComponents: boolean;
}

/**
 * How a new backup differs from its baseline in ways that may mean data was lost: a component
 * that became empty, a group (collection, Redis database, bucket, folder) that disappeared or
 * lost more than `shrinkThreshold` of its items, a name (secret file, key) that vanished, an
 * archive smaller by more than `archiveShrinkThreshold`. Only components both hold are
 * compared; growth and small shrinkage raise nothing.
 */
export function findAnomalies(
  current: ComparedBackup,
  baseline: ComparedBackup,
  settings: Pick<HealthSettings, 'shrinkThreshold' | 'archiveShrinkThreshold'>,
  options: ComparisonOptions,
): Anomaly[] {
  const anomalies: Anomaly[] = [];
  if (current.shape && baseline.shape) {
    for (const [name, before] of Object.entries(baseline.shape.components)) {
      const after = current.shape.components[name];
      if (after) anomalies.push(...componentAnomalies(name, before, after, settings.shrinkThreshold));
    }
    anomalies.push(...keyNameAnomalies(baseline.shape.keyNames, current.shape.keyNames));
  }
  const smaller = options.sameComponents ? archiveSizeAnomaly(current.bytes, baseline.bytes, settings.archiveShrinkThreshold) : undefined;
  if (smaller) anomalies.push(smaller);
  return anomalies;
}

function componentAnomalies(name: string, before: ComponentShape, after: ComponentShape, threshold: number): Anomaly[] {
  const itemsBefore = shapeItems(before);
  const label = shown(name);
  if (itemsBefore > 0 && shapeItems(after) === 0) {
    return [{ component: name, kind: 'empty', message: `${label}: empty (had ${count(itemsBefore, before.items)})` }];
  }
  const anomalies: Anomaly[] = [];
  for (const [groupName, group] of Object.entries(before.groups)) {
    const what = `${before.group} ${shown(groupName)}`;
    const now = after.groups[groupName];
    if (!now) {
      anomalies.push({ component: name, kind: 'vanished', message: `${label}: ${what} is gone (had ${count(group.items, before.items)})` });
      continue;
    }
    const lost = group.items === 0 ? 0 : (group.items - now.items) / group.items;
    if (lost > threshold) {
      const share = now.items === 0 ? 'all' : `${Math.round(lost * 100)} %`;
      anomalies.push({
        component: name,
        kind: 'shrunk',
        message: `${label}: ${what} lost ${share} of its ${before.items} (${group.items.toLocaleString('en-US')} → ${now.items.toLocaleString('en-US')})`,
      });
    }
  }
  const namesNow = new Set(after.names ?? []);
  for (const lostName of (before.names ?? []).filter((entry) => !namesNow.has(entry))) {
    anomalies.push({ component: name, kind: 'vanished', message: `${label}: ${shown(lostName)} is gone` });
  }
  return anomalies;
}

/** A key the baseline fingerprinted that this backup no longer has: a .env that lost it cannot decrypt old data. */
function keyNameAnomalies(before: readonly string[] | undefined, after: readonly string[] | undefined): Anomaly[] {
  if (!before || !after) return [];
  const now = new Set(after);
  return before
    .filter((name) => !now.has(name))
    .map((name) => ({ kind: 'key-name-vanished', message: `key ${shown(name)} is no longer set (its fingerprint is gone)` }));
}

function archiveSizeAnomaly(bytes: number | undefined, baselineBytes: number | undefined, threshold: number): Anomaly | undefined {
  if (bytes === undefined || !baselineBytes) return undefined;
  const lost = (baselineBytes - bytes) / baselineBytes;
  if (lost <= threshold) return undefined;
  return {
    kind: 'smaller-archive',
    message: `archive is ${Math.round(lost * 100)} % smaller than the baseline's (${formatBytes(baselineBytes)} → ${formatBytes(bytes)})`,
  };
}

/** A name from the data (a bucket, a collection), escaped so that it keeps its message on one line. */
function shown(name: string): string {
  return printable(name).replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

/** "1,204 documents": the shape's own word for its items. */
function count(items: number, word: string): string {
  return `${items.toLocaleString('en-US')} ${items === 1 ? word.replace(/s$/, '') : word}`;
}
