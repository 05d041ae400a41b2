/** The benchmark's tables, as Markdown for the terminal and docs/performance.md. */
import { median, seconds, type BenchResults, type LimitRow, type Row } from './results.js';

const MB = 1024 * 1024;
const GB = 1024 * MB;
export const SEALED = 'tool, age-encrypted';
export const TO_S3 = 'tool to s3://';
export const ZSTD = 'tool, zstd -3';
/** A selective restore: `--objects` picking 1 % of the small objects. */
export const OBJECTS_PICK = 'tool, --objects 1 %';
/** Selective restores of the size datasets: 1,000 Redis keys, one of the four collections. */
export const KEYS_PICK = "tool, --keys 'session:1???' (1,000 keys)";
/** users: a third of what audit leaves of the archive's 22 % of the data (planDataset): (22 - 1) / 3 = 7 %. */
export const NS_PICK = 'tool, --ns users (1 of 4 collections, 7 % of the data)';
/** audit: the collection that holds 1 % of the dataset. */
export const NS_AUDIT_PICK = 'tool, --ns audit (1 % of the data)';
/** One key prefix of the size datasets' objects: tenant 7 of 50 in the uploads bucket. */
export const PREFIX_PICK = 'tool, --objects uploads/tenant-7/ (1 prefix)';
const PICKS: readonly string[] = [OBJECTS_PICK, KEYS_PICK, NS_PICK, NS_AUDIT_PICK, PREFIX_PICK];

export function renderReport(results: BenchResults): string {
  const { machine } = results;
  const runs = results.rows[0]?.wallMs.length ?? 0;
  const lines = [
    `Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GB RAM, Node ${machine.node}, ${results.startedAt.slice(0, 10)}, ` +
      `commit ${results.commit}. ${runs === 1 ? 'One run of each' : `Median of ${runs} alternating runs`}; RSS is the peak of the whole process tree.` +
      (results.limits.length > 0
        ? ` "machine limit": the irreducible work of the same data done part by part with the leanest tools (see bench/limit.ts).`
        : ''),
    '',
    ...mainTable(
      results.rows.filter((row) => row.kind === 'size'),
      results.limits,
    ),
  ];
  const small = results.rows.filter((row) => row.kind === 'small objects');
  if (small.length > 0) lines.push('', ...smallObjectsTable(small, results.limits));
  const scale = scaleTable(results.rows.filter((row) => row.kind === 'size' && row.pipeline === 'tool'));
  if (scale.length > 0) lines.push('', ...scale);
  if (results.limits.length > 0) lines.push('', ...limitParts(results.limits));
  if (results.variants.length > 0) lines.push('', ...variantTable(results.variants));
  return lines.join('\n');
}

function mainTable(rows: Row[], limits: LimitRow[]): string[] {
  const lines = [
    '| data | operation | pipeline | wall | MB/s | peak RSS | largest local file | ratio |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.dataset} (${Math.round(row.dataBytes / MB)} MB) | ${row.operation} | ${row.pipeline} | ${seconds(median(row.wallMs))} | ` +
        `${Math.round(row.dataBytes / MB / (median(row.wallMs) / 1000))} | ${Math.round(Math.max(...row.peakRss) / MB)} MB | ${largest(row)} | ${ratios(row, rows, limits)} |`,
    );
    const limit =
      (row.pipeline === 'bash' || row.pipeline === ZSTD) &&
      limits.find(
        (entry) => entry.dataset === row.dataset && entry.operation === row.operation && isZstd(entry) === (row.pipeline === ZSTD),
      );
    if (limit) {
      lines.push(
        `| ${row.dataset} (${Math.round(row.dataBytes / MB)} MB) | ${row.operation} | machine limit${limit.codec ? ` (${limit.codec})` : ''} | ${seconds(limit.wallMs)} | ` +
          `${Math.round(row.dataBytes / MB / (limit.wallMs / 1000))} | | | |`,
      );
    }
  }
  return lines;
}

function smallObjectsTable(rows: Row[], limits: LimitRow[]): string[] {
  const lines = [
    `Many small objects (${rows[0].dataset}: 1-16 KB each over four buckets, beside the MongoDB and Redis data of the 256 MB set; ` +
      `median of ${rows[0].wallMs.length} run${rows[0].wallMs.length === 1 ? '' : 's'}):`,
    '',
    '| operation | pipeline | wall | objects/s | peak RSS | ratio |',
    '|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const wall = median(row.wallMs);
    lines.push(
      `| ${row.operation} | ${row.pipeline} | ${seconds(wall)} | ${Math.round((row.objects ?? 0) / (wall / 1000))} | ` +
        `${Math.round(Math.max(...row.peakRss) / MB)} MB | ${ratios(row, rows, limits)} |`,
    );
    const limit =
      row.pipeline === 'bash' &&
      limits.find((entry) => entry.dataset === row.dataset && entry.operation === row.operation && !isZstd(entry));
    if (limit)
      lines.push(
        `| ${row.operation} | machine limit | ${seconds(limit.wallMs)} | ${Math.round((row.objects ?? 0) / (limit.wallMs / 1000))} | | |`,
      );
  }
  return lines;
}

/** Time per GB and peak RSS of the tool at each size: flat memory and linear time, or not. */
function scaleTable(toolRows: Row[]): string[] {
  const datasets = [...new Set(toolRows.map((row) => row.dataset))];
  if (datasets.length < 2) return [];
  const lines = ['| data | backup s/GB | backup peak RSS | restore s/GB | restore peak RSS |', '|---|---|---|---|---|'];
  const figures = datasets.map((dataset) => {
    const of = (operation: Row['operation']) => toolRows.find((row) => row.dataset === dataset && row.operation === operation);
    const backup = of('backup');
    const restore = of('restore');
    const perGb = (row?: Row) => (row ? median(row.wallMs) / 1000 / (row.dataBytes / GB) : NaN);
    const rss = (row?: Row) => (row ? Math.max(...row.peakRss) : NaN);
    return {
      dataset,
      dataBytes: backup?.dataBytes ?? 0,
      backup: { perGb: perGb(backup), rss: rss(backup) },
      restore: { perGb: perGb(restore), rss: rss(restore) },
    };
  });
  for (const figure of figures) {
    lines.push(
      `| ${figure.dataset} (${Math.round(figure.dataBytes / MB)} MB) | ${figure.backup.perGb.toFixed(1)} s | ${Math.round(figure.backup.rss / MB)} MB | ` +
        `${figure.restore.perGb.toFixed(1)} s | ${Math.round(figure.restore.rss / MB)} MB |`,
    );
  }
  const spread = (values: number[]) => ((Math.max(...values) - Math.min(...values)) / Math.min(...values)) * 100;
  const trend = (values: number[]) => values.at(-1)! / values[0];
  lines.push(
    '',
    `Across sizes: peak RSS spread ${spread(figures.map((f) => f.backup.rss)).toFixed(0)} % (backup), ${spread(figures.map((f) => f.restore.rss)).toFixed(0)} % (restore), target ≤ 10 %; ` +
      `time per GB at the largest size vs the smallest ×${trend(figures.map((f) => f.backup.perGb)).toFixed(2)} (backup), ×${trend(figures.map((f) => f.restore.perGb)).toFixed(2)} (restore), target ≤ 1.`,
  );
  return ['Time per GB and memory across sizes (the tool):', '', ...lines];
}

function limitParts(limits: LimitRow[]): string[] {
  const lines = [
    'The machine limit, part by part (each alone, one after the other):',
    '',
    '| data | operation | part | wall |',
    '|---|---|---|---|',
  ];
  for (const limit of limits)
    for (const part of limit.parts)
      lines.push(
        `| ${limit.dataset} | ${limit.operation}${limit.codec ? ` (${limit.codec})` : ''} | ${part.name} | ${seconds(part.wallMs)} |`,
      );
  return lines;
}

function variantTable(variants: Row[]): string[] {
  const lines = [
    `Each optimisation, ${variants[0].dataset} (one run each):`,
    '',
    '| operation | optimisations on | wall | peak RSS |',
    '|---|---|---|---|',
  ];
  for (const row of variants)
    lines.push(`| ${row.operation} | ${row.pipeline} | ${seconds(row.wallMs[0])} | ${Math.round(row.peakRss[0] / MB)} MB |`);
  return lines;
}

/** The tool against bash and against the machine limit; s3:// and encrypted rows against the plain tool. */
function ratios(row: Row, rows: Row[], limits: LimitRow[]): string {
  const find = (pipeline: string) =>
    rows.find((entry) => entry.dataset === row.dataset && entry.operation === row.operation && entry.pipeline === pipeline);
  const wall = median(row.wallMs);
  const parts: string[] = [];
  const versus =
    row.pipeline === 'tool'
      ? find('bash')
      : row.pipeline === TO_S3 || row.pipeline === SEALED || row.pipeline === ZSTD || PICKS.includes(row.pipeline)
        ? find('tool')
        : undefined;
  const against = {
    tool: 'tool / bash',
    [TO_S3]: 's3:// / local file',
    [SEALED]: 'encrypted / plain',
    [ZSTD]: 'zstd / gzip',
    [OBJECTS_PICK]: 'selection / whole',
    [KEYS_PICK]: 'selection / whole',
    [NS_PICK]: 'selection / whole',
    [NS_AUDIT_PICK]: 'selection / whole',
    [PREFIX_PICK]: 'selection / whole',
  }[row.pipeline];
  if (versus) parts.push(`${(wall / median(versus.wallMs)).toFixed(2)} (${against})`);
  const limit = limits.find(
    (entry) => entry.dataset === row.dataset && entry.operation === row.operation && isZstd(entry) === (row.pipeline === ZSTD),
  );
  if (limit && (row.pipeline === 'tool' || row.pipeline === 'bash' || row.pipeline === ZSTD))
    parts.push(`${(wall / limit.wallMs).toFixed(2)}× limit`);
  if (row.pipeline === ZSTD && row.archiveBytes && versus?.archiveBytes) {
    parts.push(`archive ${mb(median(row.archiveBytes))} vs ${mb(median(versus.archiveBytes))} MB gzip`);
  }
  return parts.join(', ');
}

function isZstd(limit: LimitRow): boolean {
  return limit.codec === 'zstd';
}

function mb(bytes: number): string {
  return (bytes / MB).toFixed(1);
}

function largest(row: Row): string {
  return row.largestFile ? `${Math.round(Math.max(...row.largestFile) / MB)} MB` : '';
}
