import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';

export interface Measurement {
  wallMs: number;
  /** Highest sum of resident memory over the process and all its descendants, sampled every 50 ms. */
  peakRssBytes: number;
  /** The largest file seen in the watched folders while it ran (sampled with the RSS). */
  largestFileBytes: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

const PAGE = 4096;

/** Runs a command and measures its wall time and the peak RSS of its whole process tree. */
export function measure(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; watchFolders?: string[] },
): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    let largest = 0;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const sample = () => {
      peak = Math.max(peak, treeRss(child.pid!));
      for (const folder of options.watchFolders ?? []) largest = Math.max(largest, largestFile(folder));
    };
    const timer = setInterval(sample, 50);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ wallMs: performance.now() - started, peakRssBytes: peak, largestFileBytes: largest, code, stdout, stderr });
    });
  });
}

function treeRss(root: number): number {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(name)]);
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    try {
      total += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE;
    } catch {
      // ended
    }
    queue.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** The size of the largest file anywhere under a folder (files may vanish while it looks). */
function largestFile(folder: string): number {
  let largest = 0;
  let entries: Dirent[];
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(folder, entry.name);
    try {
      if (entry.isDirectory()) largest = Math.max(largest, largestFile(path));
      else if (entry.isFile()) largest = Math.max(largest, statSync(path).size);
    } catch {
      // removed meanwhile
    }
  }
  return largest;
}
