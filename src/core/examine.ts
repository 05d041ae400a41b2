import { locationName, type ArchiveBytes } from '../archive/location.js';
import { archiveIndex } from '../archive/fileIndex.js';
import type { Manifest } from '../archive/manifest.js';
import { checkArchive, readManifest, sizeProblem } from '../archive/reader.js';
import { sourceFor, type ArchiveView } from './archiveSource.js';
import type { ArchiveReport, Component } from './component.js';
import { UsageError } from '../base/errors.js';
import { plural, printable, withoutFinalPeriod } from '../base/format.js';
import { ComponentProgress } from '../model/progress.js';
import type { EventListener } from '../model/events.js';

/** What a component of a cut archive shows instead of its report. */
export const NOT_READ_CUT = "(not read: the archive's size does not match its manifest)";

export interface ExamineOptions {
  components: readonly Component[];
  setting: (key: string) => string | undefined;
  onEvent: EventListener;
  /** verify: read every byte and check every SHA-256 first; inspect: trust the manifest's file list. */
  checkEveryFile: boolean;
  /** A configured component (volume, directory) made from the definition the archive recorded. */
  fromArchive?: (name: string, details: unknown) => Component | undefined;
}

export interface ExaminedArchive {
  readonly file: string;
  readonly name: string;
  readonly bytes: number;
  /** How the file is encrypted, when it is (`age, to 1 X25519 recipient`). */
  readonly encryption?: string;
  readonly manifest?: Manifest;
  /** How many files the archive holds (as listed, or as found in a legacy archive). */
  readonly files?: number;
  /** Problems of the archive as a whole: structure, manifest, sizes, checksums (the first thousand of them). */
  readonly archiveProblems: string[];
  /** Problems of the archive found beyond those listed. */
  readonly unlistedProblems: number;
  /** The archive's size does not match its manifest (cut short or extended): its components were not read. */
  readonly sizeMismatch?: string;
  readonly components: readonly { name: string; report?: ArchiveReport }[];
}

/**
 * Reads an archive without any server: the manifest, then (for verify) every file's bytes, then
 * each component's own view of its data. Damage is reported as problems; only a path that is
 * not a file at all is a usage error.
 */
export async function examineArchive(location: ArchiveBytes, options: ExamineOptions): Promise<ExaminedArchive> {
  const file = location.path;
  const name = locationName(location);
  const bytes = location.size;
  const encryption = location.encryption;
  let manifest: Manifest;
  try {
    manifest = (await readManifest(location)).manifest;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return { file, name, bytes, encryption, archiveProblems: [withoutFinalPeriod(error.message)], unlistedProblems: 0, components: [] };
  }
  let index = archiveIndex(location, manifest);
  const legacy = index === undefined;
  // A cut or extended archive is said first: the check's findings follow from it.
  const misfit = await sizeProblem(location, manifest);
  const archiveProblems: string[] = misfit ? [misfit] : [];
  let unlistedProblems = 0;
  if (options.checkEveryFile || !index) {
    const progress = new ComponentProgress('archive', 'check', options.onEvent);
    progress.expect(index?.bytes ?? 0);
    const check = await checkArchive(location, manifest, (count) => progress.advance(count));
    archiveProblems.push(...check.problems); // at most a thousand: a longer list is counted
    unlistedProblems = check.unlisted;
    index = check.index;
    const count = check.problems.length + check.unlisted;
    progress.done(count === 0 ? `${plural(index.files, 'file')}, sizes and SHA-256 match` : plural(count, 'problem'));
  }
  if (legacy) archiveProblems.push('made by the original backup.sh: the manifest records no checksums (structure checked only)');
  const view: ArchiveView = { file, location, name, manifest, index, legacy };
  const components = [];
  for (const componentName of manifest.components) {
    if (misfit) {
      // A cut archive would fail midway through a component's part: judged from its first bytes instead, as find does.
      components.push({ name: componentName, report: { facts: {}, lines: [NOT_READ_CUT], problems: [] } });
      continue;
    }
    const component =
      options.components.find((candidate) => candidate.name === componentName) ??
      options.fromArchive?.(componentName, manifest.details?.[componentName]);
    if (!component) {
      archiveProblems.push(`the manifest lists ${componentName}, which this version does not know`);
      components.push({ name: componentName });
      continue;
    }
    const progress = new ComponentProgress(component.name, 'check', options.onEvent);
    const report = await component.examine({ source: sourceFor(view, component), setting: options.setting }).catch((error: unknown) => {
      // A damaged part of the manifest is a finding of the check, not a reason to stop it.
      if (!(error instanceof UsageError)) throw error;
      return { facts: {}, lines: [], problems: [withoutFinalPeriod(error.message)] };
    });
    progress.done(report.problems.length === 0 ? 'sound' : plural(report.problems.length, 'problem'));
    components.push({
      name: componentName,
      report: { ...report, lines: report.lines.map(printable), problems: report.problems.map(printable) },
    });
  }
  return {
    file,
    name,
    bytes,
    encryption,
    manifest,
    files: index.files,
    archiveProblems,
    unlistedProblems,
    sizeMismatch: misfit,
    components,
  };
}

/** Every problem, each prefixed by where it was found. */
export function allProblems(examined: ExaminedArchive): string[] {
  return [
    ...examined.archiveProblems.filter((problem) => !problem.startsWith('made by the original backup.sh')),
    ...examined.components.flatMap(({ name, report }) => (report?.problems ?? []).map((problem) => `${name}: ${problem}`)),
  ];
}
