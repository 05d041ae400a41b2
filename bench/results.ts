/**
 * Every figure of one `npm run bench`, as one JSON file per run under bench/results/, so that two
 * runs (two commits, two machines) can be compared by `npm run bench:compare a.json b.json`.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { LimitPart } from './limit.js';

export const RESULTS_SCHEMA = 'orkestra-backup-bench/1';

export interface Row {
  /** `256 MB`, `2 GB`, `100,000 small objects`. */
  dataset: string;
  /** Size datasets go into the scale table; the small-objects one has its own. */
  kind: 'size' | 'small objects';
  operation: 'backup' | 'restore';
  pipeline: string;
  wallMs: number[];
  peakRss: number[];
  dataBytes: number;
  /** Objects in the store (the small-objects dataset). */
  objects?: number;
  /** The largest file the run had on local disk (backups: the archive or its working files). */
  largestFile?: number[];
  /** The archive's size (local backups of the tool, gzip and zstd). */
  archiveBytes?: number[];
}

export interface LimitRow {
  dataset: string;
  operation: 'backup' | 'restore';
  /** The zstd limit (zstd -T<cores> in place of pigz); undefined: the gzip one. */
  codec?: 'zstd';
  wallMs: number;
  parts: LimitPart[];
}

export interface Machine {
  cores: number;
  cpu: string;
  memoryGb: number;
  node: string;
}

export interface BenchResults {
  schema: typeof RESULTS_SCHEMA;
  commit: string;
  /** Uncommitted changes were in the tree when the run started. */
  dirty: boolean;
  machine: Machine;
  startedAt: string;
  finishedAt: string;
  /** The BENCH_* variables the run was started with. */
  settings: Record<string, string>;
  rows: Row[];
  limits: LimitRow[];
  variants: Row[];
}

export function thisMachine(): Machine {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
  };
}

export function commitOf(repo: string): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repo, encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: true };
  }
}

export function benchSettings(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('BENCH_')));
}

/** Writes `bench/results/<started>-<commit>.json`; returns its path. */
export async function writeResults(repo: string, results: BenchResults): Promise<string> {
  const folder = join(repo, 'bench/results');
  await mkdir(folder, { recursive: true });
  const path = join(folder, `${results.startedAt.replace(/[:.]/g, '-')}-${results.commit}.json`);
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = (sorted.length - 1) / 2;
  return (sorted[Math.floor(middle)] + sorted[Math.ceil(middle)]) / 2;
}

export function rowKey(row: Pick<Row, 'dataset' | 'operation' | 'pipeline'>): string {
  return `${row.dataset} | ${row.operation} | ${row.pipeline}`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
