import { plural } from '../base/format.js';
import type { RestorePlan } from './component.js';
import type { CheckedArchive, ComponentPlan } from './restore.js';

/** A line of a report, and whether it tells of a failure (shown in red by the interface). */
export interface ReportLine {
  readonly text: string;
  readonly failure?: boolean;
}

/** The dry-run report: what a restore of these components would do, component by component. */
export function dryRunReport(archive: CheckedArchive, plans: readonly ComponentPlan[]): string {
  return `${dryRunLines(archive, plans)
    .map((line) => line.text)
    .join('\n')}\n`;
}

export function dryRunLines(archive: CheckedArchive, plans: readonly ComponentPlan[]): ReportLine[] {
  const { manifest } = archive;
  const lines: ReportLine[] = [
    {
      text: `Dry run of ${archive.name} — environment ${manifest.environment}, created ${manifest.createdAt} on ${manifest.host || 'an unknown host'}`,
    },
    {
      text: archive.legacy
        ? 'Archive: made by the original backup.sh; no checksums to verify, structure checked'
        : archive.checkedOnly
          ? `Archive: ${plural(archive.index.files, 'file')}; the ${archive.checkedOnly.files} this restore reads verified (SHA-256), the rest not read (verify checks them)`
          : `Archive: ${plural(archive.index.files, 'file')}, every SHA-256 verified`,
    },
  ];
  const selective = selectiveLine(archive, plans);
  if (selective !== undefined) lines.push({ text: selective });
  for (const { component, plan, failure, from } of plans) {
    lines.push(
      { text: '' },
      {
        text: from
          ? `${component.name} (from ${from.name}, ${from.checkedOnly ? 'the files it reads' : 'every'} SHA-256 verified)`
          : component.name,
      },
    );
    if (failure) lines.push({ text: `  FAILED: ${failure}`, failure: true });
    if (plan?.selection) lines.push({ text: `  ${selectionSummary(plan)}` });
    for (const warning of plan?.warnings ?? []) lines.push({ text: `  warning: ${warning}` });
    for (const action of summarised(plan?.actions ?? [], 'lines (--json lists them all)')) lines.push({ text: `  ${action}` });
  }
  const failures = plans.filter((entry) => entry.failure).length;
  lines.push(
    { text: '' },
    failures > 0
      ? { text: `Result: ${failures} of ${plans.length} components would fail. Nothing was changed.`, failure: true }
      : {
          text: `Result: ${plans.length === 1 ? 'the component' : `all ${plans.length} components`} can be restored. Nothing was changed.`,
        },
  );
  return lines;
}

/** What a component's restore replaces, for the gate: a list, or that nothing existing changes; a selective restore says so first. */
export function replacedSummary(plan: RestorePlan | undefined): string {
  const replaces = plan?.replaces ?? [];
  const replaced = replaces.length > 0 ? replaces.join(', ') : 'nothing is replaced (its files are new or unchanged)';
  if (!plan?.selection) return replaced;
  return plan.selection.beside === undefined ? `${selectionSummary(plan)}; replaces: ${replaced}` : selectionSummary(plan);
}

/** A selective restore's totals, and for a beside-restore where it writes instead of the live target. */
function selectionSummary(plan: RestorePlan): string {
  const { totals, beside } = plan.selection!;
  return `only the selection — ${totals}${beside === undefined ? '' : `; written into ${beside}, the live target is not touched`}`;
}

/** With selectors, a restore brings back only the components they pick from: said once, naming those it leaves. */
function selectiveLine(archive: CheckedArchive, plans: readonly ComponentPlan[]): string | undefined {
  if (!plans.some((entry) => entry.plan?.selection)) return undefined;
  const restored = plans.map((entry) => entry.component.name);
  const others = archive.manifest.components.filter((name) => !restored.includes(name));
  return `Selective restore: only the selection of ${restored.join(', ')}${others.length > 0 ? `; not restored: ${others.join(', ')}` : ''}`;
}

/** The first lines of a long list and how many more there are: a million lines help nobody at 3 a.m. */
export function summarised(lines: readonly string[], what: string, shown = MAX_LISTED, total = lines.length): string[] {
  if (total <= shown) return [...lines];
  return [...lines.slice(0, shown), `… and ${(total - shown).toLocaleString('en-US')} more ${what}`];
}

const MAX_LISTED = 1000;
