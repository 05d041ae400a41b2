import { asSentence, formatDuration, plural, printable } from '../../base/format.js';
import type { DrillCheck } from '../component.js';
import type { ReportLine } from '../reports.js';
import type { DrillReport } from './runDrill.js';

/** The drill's result for people: each component, each check with what was expected and found, the time of each phase. */
export function drillLines(report: DrillReport): ReportLine[] {
  const lines: ReportLine[] = [{ text: `Drill ${report.id} of ${report.archive} (created ${report.createdAt})` }];
  if (report.selective) lines.push({ text: `Selective drill: only ${selectionList(report)} restored into the copies and checked` });
  for (const component of report.components) {
    const state = component.failure ? `FAILED: ${component.failure}` : `restored${component.restored ? `: ${component.restored}` : ''}`;
    const selected = component.selected ? ` (${component.selected})` : '';
    lines.push({ text: `${component.name}${selected}  ${state}`, failure: Boolean(component.failure) });
    for (const check of component.checks) lines.push(checkLine(check));
  }
  if (report.unmatchedCanaries.length > 0) {
    lines.push({ text: 'canaries of components the archive does not hold', failure: true });
    for (const check of report.unmatchedCanaries) lines.push(checkLine(check));
  }
  if (report.notDrilled.length > 0) {
    lines.push({ text: `not drilled (no throwaway copy for this kind of component yet): ${report.notDrilled.join(', ')}` });
  }
  if (report.canariesNotChecked && report.canariesNotChecked.length > 0) {
    lines.push({ text: `canaries not checked (a selective drill proves its selection only): ${report.canariesNotChecked.join(', ')}` });
  }
  lines.push({ text: `Time: ${report.phases.map((phase) => `${phase.name} ${formatDuration(phase.ms)}`).join(', ')}` });
  lines.push(verdict(report));
  return lines.map((line) => ({ ...line, text: printable(line.text) }));
}

export function drillText(report: DrillReport): string {
  return `${drillLines(report)
    .map((line) => line.text)
    .join('\n')}\n`;
}

/** The failing checks and components, by name: what a cron mail or a CI log shows first. */
export function drillFailures(report: DrillReport): string[] {
  const failures = report.components.flatMap((component) => [
    ...(component.failure ? [`${component.name}: ${component.failure}`] : []),
    ...component.checks.filter((check) => !check.ok).map((check) => `${component.name}: ${check.name}`),
  ]);
  return [...failures, ...report.unmatchedCanaries.map((check) => `canary ${check.name}`)];
}

function checkLine(check: DrillCheck): ReportLine {
  const word = check.skipped ? 'SKIP' : check.ok ? 'PASS' : 'FAIL';
  const what = check.canary ? `canary "${check.name}"` : check.name;
  const figures = check.skipped ? `not run: ${check.skipped}` : `expected ${check.expected}; measured ${check.measured}`;
  return { text: `  ${word}  ${what} — ${figures}`, failure: !check.ok };
}

function verdict(report: DrillReport): ReportLine {
  if (report.ok) {
    const checks = report.components.reduce((total, component) => total + component.checks.filter((check) => !check.skipped).length, 0);
    const what = report.selective ? 'the selection restores' : 'the archive restores';
    return { text: `Drill PASSED: ${what}; ${plural(checks, 'check')} passed.` };
  }
  const failures = drillFailures(report);
  return { text: asSentence(`Drill FAILED: ${failures.join('; ')}`), failure: true };
}

function selectionList(report: DrillReport): string {
  return report.components.map((component) => `${component.name} ${component.selected ?? ''}`.trim()).join('; ');
}
