/**
 * `npm run bench:compare a.json b.json`: two runs of `npm run bench` side by side — every row and
 * limit both have, the median wall time and peak RSS of each, and the change from a to b. Rows
 * only one run has are listed after. A different machine or Node is said first: the figures then
 * compare machines as much as commits.
 */
import { readFile } from 'node:fs/promises';
import { median, seconds, RESULTS_SCHEMA, rowKey, type BenchResults, type Row } from './results.js';

const MB = 1024 * 1024;

async function load(path: string): Promise<BenchResults> {
  let parsed: BenchResults;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as BenchResults;
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error });
  }
  if ((parsed.schema as string) !== RESULTS_SCHEMA) throw new Error(`${path} is not a bench result (${RESULTS_SCHEMA})`);
  return parsed;
}

export function compareResults(a: BenchResults, b: BenchResults): string {
  const lines: string[] = [];
  lines.push(`a: ${a.commit}${a.dirty ? ' (dirty)' : ''}, ${a.startedAt}`);
  lines.push(`b: ${b.commit}${b.dirty ? ' (dirty)' : ''}, ${b.startedAt}`);
  const machine = (run: BenchResults) =>
    `${run.machine.cores} cores ${run.machine.cpu}, ${run.machine.memoryGb} GB, Node ${run.machine.node}`;
  if (machine(a) !== machine(b)) lines.push(`different machines: a ${machine(a)}; b ${machine(b)}`);
  lines.push('', '| data | operation | pipeline | a wall | b wall | change | a RSS | b RSS |', '|---|---|---|---|---|---|---|---|');
  const only: string[] = [];
  const bRows = new Map([...b.rows, ...b.variants].map((row) => [rowKey(row), row]));
  for (const row of [...a.rows, ...a.variants]) {
    const other = bRows.get(rowKey(row));
    bRows.delete(rowKey(row));
    if (!other) {
      only.push(`only in a: ${rowKey(row)}`);
      continue;
    }
    lines.push(rowLine(rowKey(row), row, other));
  }
  for (const key of bRows.keys()) only.push(`only in b: ${key}`);
  const bLimits = new Map(b.limits.map((limit) => [`${limit.dataset} | ${limit.operation} | machine limit`, limit]));
  for (const limit of a.limits) {
    const key = `${limit.dataset} | ${limit.operation} | machine limit`;
    const other = bLimits.get(key);
    if (other) lines.push(`| ${key} | ${seconds(limit.wallMs)} | ${seconds(other.wallMs)} | ${change(limit.wallMs, other.wallMs)} | | |`);
  }
  return [...lines, ...(only.length > 0 ? ['', ...only] : [])].join('\n');
}

function rowLine(key: string, a: Row, b: Row): string {
  const [wallA, wallB] = [median(a.wallMs), median(b.wallMs)];
  const [rssA, rssB] = [Math.max(...a.peakRss), Math.max(...b.peakRss)];
  return `| ${key} | ${seconds(wallA)} | ${seconds(wallB)} | ${change(wallA, wallB)} | ${Math.round(rssA / MB)} MB | ${Math.round(rssB / MB)} MB |`;
}

function change(a: number, b: number): string {
  const percent = ((b - a) / a) * 100;
  return `${percent >= 0 ? '+' : ''}${percent.toFixed(1)} %`;
}

async function main(): Promise<void> {
  const [first, second] = process.argv.slice(2);
  if (!first || !second) {
    console.error('usage: npm run bench:compare <a.json> <b.json>   (files written by npm run bench into bench/results/)');
    process.exitCode = 2;
    return;
  }
  console.log(compareResults(await load(first), await load(second)));
}

if (process.argv[1]?.endsWith('compare.js')) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
