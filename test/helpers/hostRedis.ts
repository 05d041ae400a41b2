import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort } from '../engine/stack.js';
import { temporaryFolder } from './tempFolders.js';

const run = promisify(execFile);

/**
 * Whether Debian's redis-server is on this host (`.ci/run` installs it): tests of real RDB files
 * and replication need it. Without it they are skipped (their names say "redis-server on the
 * host"); under ORKESTRA_TEST_REQUIRE_ENGINE=1, as in CI, its absence is a failure instead.
 */
export const hasRedisServer = (() => {
  try {
    execFileSync('redis-server', ['--version']);
    return true;
  } catch {
    if (process.env.ORKESTRA_TEST_REQUIRE_ENGINE === '1') {
      throw new Error('redis-server is not installed (Debian: redis-server); ORKESTRA_TEST_REQUIRE_ENGINE=1 requires it.');
    }
    return false;
  }
})();

export interface HostRedis {
  port: number;
  process: ChildProcess;
  /** redis-cli against it (with its password), its output trimmed. */
  cli: (...args: string[]) => string;
  /** The same without blocking the event loop (while the test watches a running binary). */
  cliAsync: (...args: string[]) => Promise<string>;
}

const started: HostRedis[] = [];

/**
 * A redis-server on the host on a free port, no persistence, with a password and any further
 * arguments (`--databases 32`); resolves once it answers PING. Stopped by `stopHostRedis`.
 */
export async function startHostRedis(password: string, args: readonly string[] = []): Promise<HostRedis> {
  const dir = await temporaryFolder('okb-redis-host-');
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--requirepass', password, ...args],
    { stdio: 'ignore' },
  );
  const argv = (args: string[]) => ['-p', String(port), '--no-auth-warning', '-a', password, ...args];
  const cli = (...args: string[]) =>
    execFileSync('redis-cli', argv(args), { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const cliAsync = async (...args: string[]) => (await run('redis-cli', argv(args), { encoding: 'utf8' })).stdout.trim();
  const server = { port, process: child, cli, cliAsync };
  started.push(server);
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if (cli('PING') === 'PONG') return server;
    } catch {
      if (Date.now() > deadline) throw new Error('redis-server did not start');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function stopHostRedis(): void {
  for (const server of started.splice(0)) server.process.kill();
}
