import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { vi } from 'vitest';
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
  /** Its working folder, where SAVE writes dump.rdb. */
  dir: string;
  process: ChildProcess;
  /** redis-cli against it (with its password), its output trimmed. */
  cli: (...args: string[]) => string;
  /** The same without blocking the event loop (while the test watches a running binary). */
  cliAsync: (...args: string[]) => Promise<string>;
}

const started: HostRedis[] = [];

/**
 * A redis-server on the host on a free port, no persistence, with a password unless `password` is
 * undefined, and any further arguments (`--databases 32`); resolves once it answers PING. Stopped
 * by `stopHostRedis`.
 */
export async function startHostRedis(password?: string, args: readonly string[] = []): Promise<HostRedis> {
  const dir = await temporaryFolder('okb-redis-host-');
  const port = await freePort();
  const auth = password === undefined ? [] : ['--requirepass', password];
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...auth, ...args],
    {
      stdio: 'ignore',
    },
  );
  const login = password === undefined ? [] : ['--no-auth-warning', '-a', password];
  const argv = (args: string[]) => ['-p', String(port), ...login, ...args];
  const cli = (...args: string[]) =>
    execFileSync('redis-cli', argv(args), { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const cliAsync = async (...args: string[]) => (await run('redis-cli', argv(args), { encoding: 'utf8' })).stdout.trim();
  const server = { port, dir, process: child, cli, cliAsync };
  started.push(server);
  await vi.waitFor(
    () => {
      let answer = '';
      try {
        answer = cli('PING');
      } catch {
        // Not listening yet.
      }
      if (answer !== 'PONG') throw new Error('redis-server did not start');
    },
    { timeout: 20_000, interval: 100 },
  );
  return server;
}

export function stopHostRedis(): void {
  for (const server of started.splice(0)) server.process.kill();
}

/** Fills a key with `count` members in one call (Lua), so large encodings are reached quickly. */
export function fillKey(
  server: HostRedis,
  kind: 'hash' | 'list' | 'set' | 'intset' | 'zset' | 'stream',
  key: string,
  count: number,
  db = 0,
): void {
  const body = {
    hash: "redis.call('HSET', KEYS[1], 'field' .. i, 'value-' .. i)",
    list: "redis.call('RPUSH', KEYS[1], 'element-' .. i)",
    set: "redis.call('SADD', KEYS[1], 'member-' .. i)",
    intset: "redis.call('SADD', KEYS[1], i)",
    zset: "redis.call('ZADD', KEYS[1], i * 1.5, 'member-' .. i)",
    stream: "redis.call('XADD', KEYS[1], '*', 'n', i)",
  }[kind];
  server.cli('-n', String(db), 'EVAL', `for i = 1, ${count} do ${body} end`, '1', key);
}
