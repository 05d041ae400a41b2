/**
 * `npm run bench:startup`: what every cron run pays before any data moves — `orkestra-backup
 * --version` and a backup of the secrets alone — on each Node line: the machine's own Node 20
 * when it has one, and Node 22 and 24 from the npm registry (fetched by .ci/node into .cache/).
 * Prints the median wall time and the median peak RSS (GNU time's maximum resident set) of each.
 *
 *   STARTUP_ROUNDS=N      runs of each command per Node, interleaved (default 9)
 *   STARTUP_NODES=a,b     Node versions to fetch besides the machine's (default 22.23.5,24.22.3)
 *
 * The tool refuses Node 20, so every Node runs the compiled entry point directly, with the
 * binary's own V8 flags: the figures compare the runtimes on the same code.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = join(REPO, 'dist/cli/main.js');
const V8_FLAGS = ['--max-semi-space-size=2', '--max-old-space-size=2048', '--heap-growing-percent=100'];
const LAUNCH = `const { main } = await import(${JSON.stringify(`file://${ENTRY}`)}); process.exitCode = await main(process.argv.slice(1));`;

interface Sample {
  seconds: number;
  peakRssKb: number;
}

function nodes(): { label: string; path: string }[] {
  const found: { label: string; path: string }[] = [];
  const system = spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' });
  if (system.status === 0) found.push({ label: `${system.stdout.trim()} (machine)`, path: '/usr/bin/node' });
  const wanted = (process.env.STARTUP_NODES ?? '22.23.5,24.22.3').split(',').filter(Boolean);
  for (const version of wanted) {
    const bin = execFileSync(join(REPO, '.ci/node'), [version], { encoding: 'utf8' }).trim();
    found.push({ label: `v${version}`, path: join(bin, 'node') });
  }
  return found;
}

function timed(node: string, args: string[], cwd: string): Sample {
  const result = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', node, ...V8_FLAGS, '--input-type=module', '-e', LAUNCH, '--', ...args], {
    cwd,
    encoding: 'utf8',
  });
  const line = /TIME ([\d.]+) (\d+)/.exec(result.stderr);
  if (result.status !== 0 || !line) throw new Error(`${node} ${args.join(' ')} failed (${result.status}): ${result.stderr.trim()}`);
  return { seconds: Number(line[1]), peakRssKb: Number(line[2]) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function secretsProject(): Promise<string> {
  const project = await mkdtemp(join(tmpdir(), 'okb-startup-'));
  await mkdir(join(project, 'docker/keys'), { recursive: true });
  await writeFile(join(project, 'docker/.env'), 'MONGO_DATABASE=orkestra\nMONGO_ROOT_PASSWORD=bench-only\n', { mode: 0o600 });
  await writeFile(join(project, 'docker/keys/jwt-private.pem'), '-----BEGIN PRIVATE KEY-----\nbench\n-----END PRIVATE KEY-----\n');
  await chmod(join(project, 'docker/keys/jwt-private.pem'), 0o600);
  return project;
}

async function main(): Promise<void> {
  if (spawnSync('/usr/bin/time', ['true']).status !== 0) throw new Error('GNU time (/usr/bin/time; Debian: time) is needed for peak RSS');
  const rounds = Number(process.env.STARTUP_ROUNDS ?? 9);
  const runtimes = nodes();
  const project = await secretsProject();
  const commands = [
    { label: '--version', args: ['--version'] },
    { label: 'backup -c secrets', args: ['backup', '-c', 'secrets', '-y'] },
  ];
  const samples = new Map<string, Sample[]>();
  try {
    // Interleaved, so that a busy moment of the machine falls on every runtime alike.
    for (let round = 0; round < rounds; round++) {
      for (const runtime of runtimes) {
        for (const command of commands) {
          await rm(join(project, 'backups'), { recursive: true, force: true });
          await mkdir(join(project, 'backups'));
          const key = `${runtime.label}\t${command.label}`;
          samples.set(key, [...(samples.get(key) ?? []), timed(runtime.path, command.args, project)]);
        }
      }
    }
  } finally {
    await rm(project, { recursive: true, force: true });
  }
  console.log(`Startup, median of ${rounds} runs each (wall time; peak RSS from GNU time):\n`);
  console.log('| Node | command | wall | peak RSS |');
  console.log('| --- | --- | ---: | ---: |');
  for (const [key, runs] of samples) {
    const [runtime, command] = key.split('\t');
    const seconds = median(runs.map((run) => run.seconds));
    const rssMb = median(runs.map((run) => run.peakRssKb)) / 1024;
    console.log(`| ${runtime} | \`${command}\` | ${seconds.toFixed(2)} s | ${rssMb.toFixed(0)} MB |`);
  }
}

await main();
