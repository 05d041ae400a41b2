/** The runs the bench measures: the tool and the bash pipeline against a bench stack, each with its environment. */
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench } from './benchStack.js';
import { measure, type Measurement } from './measure.js';
import type { Row } from './results.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/dist-bench\/?$/, '');
export const BINARY = join(REPO, 'bin/orkestra-backup');
export const MB = 1024 * 1024;
export const ACCESS = 'bench-access';
export const SECRET = 'bench-secret-key';

export function toolEnv(bench: Bench, extra: Record<string, string>): NodeJS.ProcessEnv {
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

export function bashEnv(bench: Bench, extra: Record<string, string>): NodeJS.ProcessEnv {
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
export const toolBackup = (bench: Bench, output: string, env: Record<string, string>, flags: string[] = []) =>
  measure(BINARY, ['backup', 'all', '-y', '-o', output, ...flags], {
    cwd: bench.project,
    env: toolEnv(bench, env),
    watchFolders: [join(bench.work, 'tmp'), bench.project, ...(output.startsWith('s3://') ? [] : [dirname(output)])],
  });
export const toolRestore = (bench: Bench, archive: string, env: Record<string, string>, flags: string[] = []) =>
  measure(BINARY, ['restore', archive, '-y', ...flags], { cwd: bench.project, env: toolEnv(bench, env) });
export const bashBackup = (bench: Bench, output: string) =>
  measure('bash', [join(REPO, 'bench/bash/backup.sh')], {
    cwd: bench.project,
    env: bashEnv(bench, { OUTPUT: output }),
    watchFolders: [dirname(output), bench.project],
  });
export const bashRestore = (bench: Bench, archive: string) =>
  measure('bash', [join(REPO, 'bench/bash/restore.sh')], { cwd: bench.project, env: bashEnv(bench, { ARCHIVE: archive }) });

/** Records a run; a restore's phase lines follow, with the size of each MongoDB dump it kept aside when `project` is given. */
export function record(row: Row, result: Measurement, what: string, project?: string): void {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}):\n${result.stderr.slice(-2000)}`);
  row.wallMs.push(result.wallMs);
  row.peakRss.push(result.peakRssBytes);
  if (row.operation === 'backup') (row.largestFile ??= []).push(result.largestFileBytes);
  log(
    `${what}: ${seconds(result.wallMs)} s, peak RSS ${Math.round(result.peakRssBytes / MB)} MB, largest local file ${Math.round(result.largestFileBytes / MB)} MB`,
  );
  // Where a restore's time went: the tool's own line for each phase (the check, each plan, each component), and what it kept aside.
  if (row.operation !== 'restore') return;
  for (const line of result.stderr.split('\n').filter((text) => / done, |: keeping /.test(text))) {
    const kept = project ? / kept in (\S+\.archive\.gz)$/.exec(line) : null;
    log(`  ${line}${kept ? ` (${(statSync(join(project!, kept[1])).size / MB).toFixed(1)} MB kept)` : ''}`);
  }
}

export function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}
