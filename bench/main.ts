/**
 * `npm run bench`: the tool against the bash pipeline of the original scripts, on the same
 * engine stack in the same run, alternating, for each dataset: about 256 MB and about 2 GB (8 GB
 * on request), and a store of 100,000 small objects. Prints wall time, MB/s, peak RSS of each
 * process tree and the tool/bash ratio; the machine's limit for the same work (bench/limit.ts)
 * and the tool as a multiple of it; time per GB and RSS across sizes; then the gain of each
 * optimisation. Writes the tables into docs/performance.md and every figure into
 * `bench/results/<time>-<commit>.json` (compare two with `npm run bench:compare a.json b.json`).
 *
 *   BENCH_SIZES=256M,2G,8G  sizes to run (default 256M,2G; the 8 GB run takes about an hour)
 *   BENCH_SMALL_OBJECTS=N   objects of the small-objects dataset (default 100000; 0 skips it)
 *   BENCH_ROUNDS=2          alternating rounds per dataset
 *   BENCH_SMALL_ROUNDS=N    rounds of the small-objects dataset (default BENCH_ROUNDS; its bash runs take minutes)
 *   BENCH_LIMIT=0           skip the machine-limit measurements
 *   BENCH_EXTRAS=0          skip the s3:// and age-encrypted rows
 *   BENCH_ZSTD=0            skip the zstd rows (backup --compression zstd, its restore and machine limit)
 *   BENCH_VARIANTS=0        skip the per-optimisation runs
 *   BENCH_PIPELINES=tool    run only the tool (for quick experiments; no ratios, docs untouched)
 *   BENCH_HOLD=1            build the first size's dataset, print the variables to run the tool and
 *                           bench/bash/*.sh against it by hand (profiling), and keep it until Ctrl-C
 *   BENCH_SECTION=S         write the tables between <!-- S:start --> and <!-- S:end --> of docs/performance.md
 *                           (default bench): a long run of other sizes (the 8 GB one) gets its own
 *                           section instead of replacing the main run's tables
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireEngine, clientFor } from '../test/engine/engine.js';
import { prepareImages } from '../test/engine/images.js';
import type { StackContext } from '../test/engine/stack.js';
import { s3Client as s3ClientFor } from '../test/helpers/s3.js';
import { emptyOffsite, OFFSITE_BUCKET, buildBench, resetObjectStore, type Bench } from './benchStack.js';
import { planDataset, planSmallObjects, type DatasetPlan } from './dataset.js';
import { backupLimit, restoreLimit, zstdLimits, type LimitTargets } from './limit.js';
import { selectiveRestores } from './picks.js';
import {
  ACCESS,
  bashBackup,
  bashEnv,
  bashRestore,
  BINARY,
  log,
  MB,
  record,
  REPO,
  seconds,
  SECRET,
  toolBackup,
  toolEnv,
  toolRestore,
} from './pipelines.js';
import { renderReport, SEALED, TO_S3, ZSTD } from './report.js';
import { benchSettings, commitOf, thisMachine, writeResults, type BenchResults, type LimitRow, type Row } from './results.js';
import type { measure } from './measure.js';

/** Where the tables go, between the markers of a section. */
const PERFORMANCE_DOC = 'docs/performance.md';

/** One dataset of the run: a size, or the small-objects store. */
interface Dataset {
  label: string;
  kind: Row['kind'];
  plan: DatasetPlan;
}

async function main(): Promise<void> {
  const datasets = chosenDatasets();
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  const startedAt = new Date().toISOString();
  const engineResult = await acquireEngine();
  if ('unavailable' in engineResult) throw new Error(`no Docker engine: ${engineResult.unavailable}`);
  const { engine } = engineResult;
  const rows: Row[] = [];
  const limits: LimitRow[] = [];
  const variants: Row[] = [];
  const sizes = datasets.filter((dataset) => dataset.kind === 'size');
  try {
    const images = await prepareImages(clientFor(engine.dockerHost));
    const stack: StackContext = { docker: clientFor(engine.dockerHost), dockerHost: engine.dockerHost, images };
    for (const dataset of datasets) {
      log(`\n== dataset: ${dataset.label} ==`);
      const bench = await buildBench(stack, dataset.plan);
      try {
        if (process.env.BENCH_HOLD === '1') return await hold(bench);
        const datasetRounds = dataset.kind === 'small objects' ? Number(process.env.BENCH_SMALL_ROUNDS ?? rounds) : rounds;
        const archives = await compare(bench, dataset, datasetRounds, rows);
        if (process.env.BENCH_LIMIT !== '0') limits.push(...(await machineLimits(bench, dataset.label, archives.tool)));
        if (process.env.BENCH_VARIANTS !== '0' && dataset === sizes.at(-1))
          await optimisationRuns(bench, dataset.label, archives.tool, variants);
      } finally {
        await Promise.all(bench.containers.map((container) => container.remove()));
        await rm(bench.work, { recursive: true, force: true });
        await rm(bench.project, { recursive: true, force: true });
      }
    }
  } finally {
    await engine.stop();
  }
  const results: BenchResults = {
    schema: 'orkestra-backup-bench/1',
    ...commitOf(REPO),
    machine: thisMachine(),
    startedAt,
    finishedAt: new Date().toISOString(),
    settings: benchSettings(),
    rows,
    limits,
    variants,
  };
  const report = renderReport(results);
  console.log(`\n${report}`);
  log(`results: ${await writeResults(REPO, results)}`);
  if (process.env.BENCH_PIPELINES !== 'tool') await updatePerformanceDoc(report);
}

function chosenDatasets(): Dataset[] {
  const sizes = (process.env.BENCH_SIZES ?? '256M,2G').split(',').map(parseSize);
  const datasets: Dataset[] = sizes.map((size) => ({ label: size.label, kind: 'size', plan: planDataset(size.bytes) }));
  const small = Number(process.env.BENCH_SMALL_OBJECTS ?? 100_000);
  if (!Number.isInteger(small) || small < 0) throw new Error('BENCH_SMALL_OBJECTS: a number of objects, or 0 to skip them');
  if (small > 0)
    datasets.push({ label: `${small.toLocaleString('en-US')} small objects`, kind: 'small objects', plan: planSmallObjects(small) });
  return datasets;
}

/** The machine's limit for this dataset (bench/limit.ts), from the tool's archive of the last round. */
async function machineLimits(bench: Bench, label: string, archive: string): Promise<LimitRow[]> {
  const store = s3ClientFor(bench.s3Endpoint, ACCESS, SECRET);
  const targets: LimitTargets = {
    dockerHost: bench.stack.dockerHost,
    mongo: bench.mongo,
    redis: bench.redis,
    mongoDatabase: 'bench',
    store,
    work: bench.work,
    emptyStore: () => resetObjectStore(bench),
  };
  try {
    const rows: LimitRow[] = [];
    const gzipLimits = [await backupLimit(targets, archive), await restoreLimit(targets, archive)];
    const zstd = process.env.BENCH_ZSTD !== '0' ? await zstdLimits(targets, archive, gzipLimits) : [];
    for (const limit of [...gzipLimits, ...zstd]) {
      rows.push({ dataset: label, ...limit });
      log(
        `machine limit${limit.codec ? ` (${limit.codec})` : ''}, ${limit.operation}: ${seconds(limit.wallMs)} s (${limit.parts.map((part) => `${part.name} ${seconds(part.wallMs)} s`).join('; ')})`,
      );
    }
    return rows;
  } finally {
    store.destroy();
  }
}

/** Keeps the stack up for work by hand until Ctrl-C; main's cleanup then removes it. */
async function hold(bench: Bench): Promise<void> {
  const variables = { ...bashEnv(bench, {}), ...toolEnv(bench, {}) };
  const names = [
    'DOCKER_HOST',
    'ORKESTRA_MONGODB_CONTAINER',
    'ORKESTRA_REDIS_CONTAINER',
    'ORKESTRA_RUSTFS_CONTAINER',
    'MONGO_CONTAINER',
    'REDIS_CONTAINER',
    'MONGO_DATABASE',
    'RUSTFS_ENDPOINT',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_DEFAULT_REGION',
    'PROJECT_DIR',
    'WORK_DIR',
  ];
  console.log(names.map((name) => `export ${name}=${variables[name]}`).join('\n'));
  console.log(`export S3_CONTAINER=${bench.s3}`);
  console.log(`# the tool: cd "$PROJECT_DIR" && ${BINARY} backup all -y -o "$WORK_DIR/tool.tar.gz"; empty the store between restores:`);
  console.log('# docker exec "$S3_CONTAINER" sh -c "rm -rf /data/*". Ctrl-C removes the stack.');
  // A pending promise does not keep Node running; the timer does, until the signal.
  const timer = setInterval(() => undefined, 1 << 30);
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(timer);
}

/**
 * Alternating runs of the tool and the bash pipeline, backup then restore. Size datasets also
 * measure the backup to s3:// and the age-encrypted backup and restore. Returns the last archives.
 */
async function compare(bench: Bench, dataset: Dataset, rounds: number, rows: Row[]): Promise<{ tool: string; bash: string }> {
  const row = (operation: Row['operation'], pipeline: string) => {
    let found = rows.find((entry) => entry.dataset === dataset.label && entry.operation === operation && entry.pipeline === pipeline);
    if (!found) {
      found = {
        dataset: dataset.label,
        kind: dataset.kind,
        operation,
        pipeline,
        wallMs: [],
        peakRss: [],
        dataBytes: bench.dataBytes,
        objects: bench.objects,
      };
      rows.push(found);
    }
    return found;
  };
  const archives = { tool: '', bash: '' };
  const only = process.env.BENCH_PIPELINES === 'tool';
  const extras = dataset.kind === 'size' && process.env.BENCH_EXTRAS !== '0';
  const zstd = dataset.kind === 'size' && process.env.BENCH_ZSTD !== '0';
  for (let round = 0; round < rounds; round += 1) {
    const order = only ? (['tool'] as const) : round % 2 === 0 ? (['tool', 'bash'] as const) : (['bash', 'tool'] as const);
    for (const pipeline of order) {
      const output = join(bench.work, pipeline, `${pipeline}-${round}.tar.gz`);
      await rm(archives[pipeline], { force: true });
      await mkdir(join(bench.work, pipeline), { recursive: true });
      const result = pipeline === 'tool' ? await toolBackup(bench, output, {}) : await bashBackup(bench, output);
      record(row('backup', pipeline), result, `${pipeline} backup`);
      if (pipeline === 'tool') (row('backup', pipeline).archiveBytes ??= []).push((await stat(output)).size);
      archives[pipeline] = output;
    }
    const zstdOutput = join(bench.work, 'zstd', `tool-${round}.tar.zst`);
    if (zstd) {
      // The same backup with --compression zstd (level 3), beside the gzip one of this round.
      await rm(join(bench.work, 'zstd'), { recursive: true, force: true });
      await mkdir(join(bench.work, 'zstd'), { recursive: true });
      record(row('backup', ZSTD), await toolBackup(bench, zstdOutput, {}, ['--compression', 'zstd']), `tool backup, ${ZSTD}`);
      (row('backup', ZSTD).archiveBytes ??= []).push((await stat(zstdOutput)).size);
    }
    const sealedOutput = join(bench.work, 'sealed', `tool-${round}.tar.gz.age`);
    if (extras) {
      // The same backup straight into the off-site bucket, beside the local file of this round.
      const offsite = await toolBackup(bench, `s3://${OFFSITE_BUCKET}/round-${round}/`, {});
      record(row('backup', TO_S3), offsite, 'tool backup to s3://');
      await emptyOffsite(bench);
      // And encrypted with age (issue 13: at most 15 % more backup time than the plain file).
      await rm(join(bench.work, 'sealed'), { recursive: true, force: true });
      await mkdir(join(bench.work, 'sealed'), { recursive: true });
      record(row('backup', SEALED), await toolBackup(bench, sealedOutput, {}, ['-r', bench.age.recipient]), `tool backup, ${SEALED}`);
    }
    for (const pipeline of order) {
      await resetObjectStore(bench);
      const result = pipeline === 'tool' ? await toolRestore(bench, archives.tool, {}) : await bashRestore(bench, archives.bash);
      record(row('restore', pipeline), result, `${pipeline} restore`, bench.project);
    }
    await selectiveRestores(bench, dataset.kind, dataset.plan, archives.tool, row);
    if (zstd) {
      await resetObjectStore(bench);
      record(row('restore', ZSTD), await toolRestore(bench, zstdOutput, {}), `tool restore, ${ZSTD}`);
    }
    if (extras) {
      await resetObjectStore(bench);
      record(row('restore', SEALED), await toolRestore(bench, sealedOutput, {}, ['-i', bench.age.identityFile]), `tool restore, ${SEALED}`);
    }
  }
  for (const pipeline of only ? (['tool'] as const) : (['tool', 'bash'] as const))
    log(`${pipeline} archive: ${(await stat(archives[pipeline])).size} bytes`);
  return archives;
}

/** Each optimisation turned off against all of them on, on the same dataset. */
async function optimisationRuns(bench: Bench, label: string, archive: string, rows: Row[]): Promise<void> {
  const variantRow = (operation: Row['operation'], pipeline: string, result: Awaited<ReturnType<typeof measure>>): Row => ({
    dataset: label,
    kind: 'size',
    operation,
    pipeline,
    wallMs: [result.wallMs],
    peakRss: [result.peakRssBytes],
    dataBytes: bench.dataBytes,
  });
  const off = { ORKESTRA_GZIP_THREADS: '1', ORKESTRA_STORE_COMPRESSED: '0', ORKESTRA_HUFFMAN_ONLY: '0', ORKESTRA_S3_CONCURRENCY: '1' };
  const backupVariants: [string, Record<string, string>][] = [
    ['none (one gzip thread, deflate all, one S3 transfer)', off],
    ['+ parallel gzip members', { ...off, ORKESTRA_GZIP_THREADS: '' }],
    ['+ store already-compressed data', { ...off, ORKESTRA_GZIP_THREADS: '', ORKESTRA_STORE_COMPRESSED: '' }],
    [
      '+ Huffman-only coding where matches gain nothing',
      { ...off, ORKESTRA_GZIP_THREADS: '', ORKESTRA_STORE_COMPRESSED: '', ORKESTRA_HUFFMAN_ONLY: '' },
    ],
    ['+ S3 concurrency 8 (all on)', {}],
  ];
  for (const [name, env] of backupVariants) {
    const output = join(bench.work, `variant-${rows.length}.tar.gz`);
    const result = await toolBackup(bench, output, env);
    rows.push(variantRow('backup', name, result));
    log(`variant backup ${name}: ${seconds(result.wallMs)} s`);
    await rm(output, { force: true });
  }
  for (const [name, env] of [
    ['S3 concurrency 1', { ORKESTRA_S3_CONCURRENCY: '1' }],
    ['S3 concurrency 8', {}],
  ] as const) {
    await resetObjectStore(bench);
    const result = await toolRestore(bench, archive, env);
    rows.push(variantRow('restore', name, result));
    log(`variant restore ${name}: ${seconds(result.wallMs)} s`);
  }
}

async function updatePerformanceDoc(report: string): Promise<void> {
  const path = join(REPO, PERFORMANCE_DOC);
  const doc = await readFile(path, 'utf8');
  const section = process.env.BENCH_SECTION ?? 'bench';
  const start = `<!-- ${section}:start -->`;
  const end = `<!-- ${section}:end -->`;
  if (!doc.includes(start) || !doc.includes(end)) {
    log(`${PERFORMANCE_DOC} has no ${start} … ${end} section: tables not written there`);
    return;
  }
  const updated = `${doc.slice(0, doc.indexOf(start) + start.length)}\n${report}\n${doc.slice(doc.indexOf(end))}`;
  await writeFile(path, updated);
  log(`${PERFORMANCE_DOC} benchmark tables updated (section ${section})`);
}

function parseSize(text: string): { label: string; bytes: number } {
  const match = /^(\d+)([MG])$/i.exec(text.trim());
  if (!match) throw new Error(`size ${text}: use e.g. 256M or 2G`);
  const bytes = Number(match[1]) * (match[2].toUpperCase() === 'G' ? 1024 ** 3 : MB);
  return { label: `${match[1]} ${match[2].toUpperCase()}B`, bytes };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
