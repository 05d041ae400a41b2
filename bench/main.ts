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
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, DeleteObjectCommand, ListBucketsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { acquireEngine, clientFor } from '../test/engine/engine.js';
import { prepareImages } from '../test/engine/images.js';
import { execText, startMongo, startRedis, startS3, uniqueName, type RunningContainer, type StackContext } from '../test/engine/stack.js';
import { s3Client as s3ClientFor } from '../test/helpers/s3.js';
import {
  copyIntoContainer,
  planDataset,
  planSmallObjects,
  seedManySmallObjects,
  seedObjects,
  smallObject,
  smallObjectBytes,
  writeMongoArchive,
  writeRedisCommands,
  type DatasetPlan,
} from './dataset.js';
import { backupLimit, restoreLimit, zstdLimits, type LimitTargets } from './limit.js';
import { KEYS_PICK, NS_PICK, OBJECTS_PICK, PREFIX_PICK, renderReport, SEALED, TO_S3, ZSTD } from './report.js';
import { benchSettings, commitOf, thisMachine, writeResults, type BenchResults, type LimitRow, type Row } from './results.js';
import { measure, type Measurement } from './measure.js';
import { generateIdentity, identityToRecipient } from 'age-encryption';

const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/dist-bench\/?$/, '');
/** Where the tables go, between the markers of a section. */
const PERFORMANCE_DOC = 'docs/performance.md';
const BINARY = join(REPO, 'bin/orkestra-backup');
const MB = 1024 * 1024;
const ACCESS = 'bench-access';
const SECRET = 'bench-secret-key';

interface Bench {
  stack: StackContext;
  containers: RunningContainer[];
  project: string;
  work: string;
  s3Endpoint: string;
  mongo: string;
  redis: string;
  s3: string;
  /** A second S3 server: the off-site store of the `backup -o s3://` rows (separate, so the rustfs data stays the same). */
  offsite: { endpoint: string; name: string };
  dataBytes: number;
  /** Objects in the store. */
  objects: number;
  /** The key pair of the encrypted rows. */
  age: { identityFile: string; recipient: string };
}

const OFFSITE_BUCKET = 'bench-offsite';

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
      record(row('restore', pipeline), result, `${pipeline} restore`);
    }
    if (dataset.kind === 'small objects') {
      // Bucket avatars holds every 4th object, tenant-K/ every 97th: four tenants of it are 4/388 of the objects.
      await resetObjectStore(bench);
      const prefixes = ['0', '4', '8', '12'].map((tenant) => `tenant-${tenant}/`);
      const picks = prefixes.flatMap((prefix) => ['--objects', `avatars/${prefix}`]);
      const picked = row('restore', OBJECTS_PICK);
      picked.objects = pickedObjects(dataset.plan, 'avatars', prefixes); // its objects/s counts what it restores
      record(picked, await toolRestore(bench, archives.tool, {}, picks), `tool restore, ${OBJECTS_PICK}`);
    }
    if (dataset.kind === 'size') {
      // Keys session:0 … session:N-1: session:1??? are the 1,000 from 1000 to 1999. Collections users, events and module_configs
      // hold a third each. uploads/tenant-7/ is 1/50 of the uploads bucket's objects (0.4 % of the data).
      for (const [pipeline, picks] of [
        [KEYS_PICK, ['--keys', 'session:1???', '--db', '0']],
        [NS_PICK, ['--ns', 'users']],
        [PREFIX_PICK, ['--objects', 'uploads/tenant-7/']],
      ] as const) {
        await resetObjectStore(bench);
        record(row('restore', pipeline), await toolRestore(bench, archives.tool, {}, [...picks]), `tool restore, ${pipeline}`);
      }
    }
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

async function buildBench(stack: StackContext, plan: DatasetPlan): Promise<Bench> {
  const work = await mkdtemp(join(tmpdir(), 'okb-bench-'));
  const project = await mkdtemp(join(tmpdir(), 'okb-bench-project-'));
  const containers: RunningContainer[] = [];
  const mongoFixture = join(work, 'bench.archive');
  log(`writing a mongodump archive of ${Math.round(plan.mongoArchiveBytes / MB)} MB`);
  await writeMongoArchive(mongoFixture, plan.mongoArchiveBytes);
  const mongo = await startMongo(stack, uniqueName('bench-mongo'), { fixture: 'bench.archive', extraEnv: ['MONGO_STANDIN_DISCARD=1'] });
  containers.push(mongo);
  await copyIntoContainer(stack, mongo.name, '/stand-in', 'bench.archive.gz', `${mongoFixture}.gz`);
  const redis = await startRedis(stack, uniqueName('bench-redis'), { appendonly: true });
  containers.push(redis);
  log(`loading ${plan.redisKeys} keys into Redis`);
  const commands = join(work, 'redis.resp');
  await writeRedisCommands(commands, plan.redisKeys, plan.redisValueBytes);
  await copyIntoContainer(stack, redis.name, '/tmp', 'load.resp', commands);
  await execText(stack, redis.name, ['sh', '-c', 'redis-cli --pipe < /tmp/load.resp > /dev/null && rm /tmp/load.resp']);
  await rm(commands);
  const s3 = await startS3(stack, uniqueName('bench-rustfs'), { accessKey: ACCESS, secretKey: SECRET });
  containers.push(s3);
  const objects = plan.smallObjects.count + plan.largeText.count + plan.largeRandom.count + (plan.manySmall?.count ?? 0);
  log(`seeding ${objects} objects`);
  const seeding = s3ClientFor(s3.endpoint, ACCESS, SECRET);
  await seedObjects(seeding, plan);
  if (plan.manySmall) await seedManySmallObjects(stack, s3.name, seeding, plan.manySmall);
  seeding.destroy();
  await mkdir(join(project, 'docker/keys'), { recursive: true });
  await writeFile(
    join(project, 'docker/.env'),
    `MONGO_DATABASE=bench\nRUSTFS_ENDPOINT=${s3.endpoint}\nRUSTFS_ACCESS_KEY=${ACCESS}\nRUSTFS_SECRET_KEY=${SECRET}\n`,
    { mode: 0o600 },
  );
  await writeFile(join(project, 'docker/keys/jwt-private.pem'), 'private key material\n', { mode: 0o600 });
  await mkdir(join(work, 'tmp'));
  const offsite = await startS3(stack, uniqueName('bench-offsite'), { accessKey: ACCESS, secretKey: SECRET });
  containers.push(offsite);
  const offsiteClient = s3ClientFor(offsite.endpoint, ACCESS, SECRET);
  await offsiteClient.send(new CreateBucketCommand({ Bucket: OFFSITE_BUCKET }));
  offsiteClient.destroy();
  const redisBytes = Number(
    (await execText(stack, redis.name, ['sh', '-c', 'redis-cli BGSAVE > /dev/null; sleep 2; du -sb /data | cut -f1'])).trim(),
  );
  const dataBytes =
    (await stat(`${mongoFixture}.gz`)).size +
    redisBytes +
    plan.smallObjects.count * plan.smallObjects.bytes +
    plan.largeText.count * plan.largeText.bytes +
    plan.largeRandom.count * plan.largeRandom.bytes +
    manySmallBytes(plan);
  log(
    `dataset: ${Math.round(dataBytes / MB)} MB (mongodump ${Math.round((await stat(`${mongoFixture}.gz`)).size / MB)} MB gzip, Redis files ${Math.round(redisBytes / MB)} MB, objects ${Math.round((dataBytes - redisBytes - (await stat(`${mongoFixture}.gz`)).size) / MB)} MB)`,
  );
  return {
    stack,
    containers,
    project,
    work,
    s3Endpoint: s3.endpoint,
    mongo: mongo.name,
    redis: redis.name,
    s3: s3.name,
    offsite: { endpoint: offsite.endpoint, name: offsite.name },
    dataBytes,
    objects,
    age: await benchKeyPair(work),
  };
}

function manySmallBytes(plan: DatasetPlan): number {
  let bytes = 0;
  for (let index = 0; index < (plan.manySmall?.count ?? 0); index += 1) bytes += smallObjectBytes(plan.manySmall!, index);
  return bytes;
}

async function benchKeyPair(work: string): Promise<Bench['age']> {
  const identity = await generateIdentity();
  const identityFile = join(work, 'age-key.txt');
  await writeFile(identityFile, `${identity}\n`, { mode: 0o600 });
  return { identityFile, recipient: await identityToRecipient(identity) };
}

function toolEnv(bench: Bench, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DOCKER_HOST: bench.stack.dockerHost,
    ORKESTRA_MONGODB_CONTAINER: bench.mongo,
    ORKESTRA_REDIS_CONTAINER: bench.redis,
    ORKESTRA_RUSTFS_CONTAINER: bench.s3,
    // The off-site store (backup -o s3://): AWS settings, not the RustFS keys.
    AWS_ENDPOINT_URL_S3: bench.offsite.endpoint,
    AWS_ACCESS_KEY_ID: ACCESS,
    AWS_SECRET_ACCESS_KEY: SECRET,
    TMPDIR: join(bench.work, 'tmp'),
    // The s3:// row measures the plain archive's upload: a throwaway bucket may hold the bench's secrets.
    ORKESTRA_ALLOW_PLAINTEXT_SECRETS: 'yes',
  };
  for (const [key, value] of Object.entries(extra)) {
    if (value === '') delete env[key];
    else env[key] = value;
  }
  return env;
}

function bashEnv(bench: Bench, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `/usr/bin:${process.env.PATH}`, // Debian's awscli, not another aws on the PATH
    DOCKER_HOST: bench.stack.dockerHost,
    MONGO_CONTAINER: bench.mongo,
    REDIS_CONTAINER: bench.redis,
    MONGO_DATABASE: 'bench',
    RUSTFS_ENDPOINT: bench.s3Endpoint,
    AWS_ACCESS_KEY_ID: ACCESS,
    AWS_SECRET_ACCESS_KEY: SECRET,
    AWS_DEFAULT_REGION: 'us-east-1',
    PROJECT_DIR: bench.project,
    WORK_DIR: bench.work,
    ...extra,
  };
}

/** Watched for the largest local file: the archive's folder (local runs), the tool's TMPDIR and the project. */
const toolBackup = (bench: Bench, output: string, env: Record<string, string>, flags: string[] = []) =>
  measure(BINARY, ['backup', 'all', '-y', '-o', output, ...flags], {
    cwd: bench.project,
    env: toolEnv(bench, env),
    watchFolders: [join(bench.work, 'tmp'), bench.project, ...(output.startsWith('s3://') ? [] : [dirname(output)])],
  });
const toolRestore = (bench: Bench, archive: string, env: Record<string, string>, flags: string[] = []) =>
  measure(BINARY, ['restore', archive, '-y', ...flags], { cwd: bench.project, env: toolEnv(bench, env) });
const bashBackup = (bench: Bench, output: string) =>
  measure('bash', [join(REPO, 'bench/bash/backup.sh')], {
    cwd: bench.project,
    env: bashEnv(bench, { OUTPUT: output }),
    watchFolders: [dirname(output), bench.project],
  });
const bashRestore = (bench: Bench, archive: string) =>
  measure('bash', [join(REPO, 'bench/bash/restore.sh')], { cwd: bench.project, env: bashEnv(bench, { ARCHIVE: archive }) });

/** Empties the object store so that both restores upload everything (neither may skip "unchanged"). */
async function resetObjectStore(bench: Bench): Promise<void> {
  await execText(bench.stack, bench.s3, ['sh', '-c', 'rm -rf /data/*']);
  const client = s3ClientFor(bench.s3Endpoint, ACCESS, SECRET);
  const { Buckets } = await client.send(new ListBucketsCommand({}));
  if ((Buckets ?? []).length > 0) throw new Error('the object store did not empty');
}

function record(row: Row, result: Measurement, what: string): void {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}):\n${result.stderr.slice(-2000)}`);
  row.wallMs.push(result.wallMs);
  row.peakRss.push(result.peakRssBytes);
  if (row.operation === 'backup') (row.largestFile ??= []).push(result.largestFileBytes);
  log(
    `${what}: ${seconds(result.wallMs)} s, peak RSS ${Math.round(result.peakRssBytes / MB)} MB, largest local file ${Math.round(result.largestFileBytes / MB)} MB`,
  );
  // Where a restore's time went: the tool's own line for each phase (the check, each plan, each component).
  if (row.operation === 'restore') for (const line of result.stderr.split('\n').filter((text) => / done, /.test(text))) log(`  ${line}`);
}

async function emptyOffsite(bench: Bench): Promise<void> {
  const client = s3ClientFor(bench.offsite.endpoint, ACCESS, SECRET);
  const { Contents } = await client.send(new ListObjectsV2Command({ Bucket: OFFSITE_BUCKET }));
  for (const { Key } of Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: OFFSITE_BUCKET, Key }));
  client.destroy();
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

/** How many objects of the small-objects dataset lie in `bucket` under one of `prefixes`. */
function pickedObjects(plan: DatasetPlan, bucket: string, prefixes: readonly string[]): number {
  let count = 0;
  for (let index = 0; index < (plan.manySmall?.count ?? 0); index += 1) {
    const object = smallObject(plan.manySmall!, index);
    if (object.bucket === bucket && prefixes.some((prefix) => object.key.startsWith(prefix))) count += 1;
  }
  return count;
}

function parseSize(text: string): { label: string; bytes: number } {
  const match = /^(\d+)([MG])$/i.exec(text.trim());
  if (!match) throw new Error(`size ${text}: use e.g. 256M or 2G`);
  const bytes = Number(match[1]) * (match[2].toUpperCase() === 'G' ? 1024 ** 3 : MB);
  return { label: `${match[1]} ${match[2].toUpperCase()}B`, bytes };
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
