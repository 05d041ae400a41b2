import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';

/**
 * A Docker engine for the tests: the one at DOCKER_HOST or the default socket when it answers;
 * otherwise, when running as root with dockerd installed, a private engine started here with
 * vfs storage and no host networking changes (../shared/ENGINE.md), stopped by its pid at the end.
 */
export interface EngineHandle {
  dockerHost: string;
  /** True when this harness started the engine (its networking is host or none only). */
  privateEngine: boolean;
  stop(): Promise<void>;
}

export type EngineResult = { engine: EngineHandle } | { unavailable: string };

const DEFAULT_SOCKET = 'unix:///var/run/docker.sock';

export async function acquireEngine(): Promise<EngineResult> {
  const existing = process.env.DOCKER_HOST ?? DEFAULT_SOCKET;
  if (await answers(existing)) {
    return { engine: { dockerHost: existing, privateEngine: false, stop: async () => undefined } };
  }
  if (process.getuid?.() !== 0) return { unavailable: `no Docker engine at ${existing}, and not root to start one` };
  const dockerd = ['/usr/bin/dockerd', '/usr/sbin/dockerd', '/usr/local/bin/dockerd'].find((path) => existsSync(path));
  if (!dockerd) return { unavailable: `no Docker engine at ${existing}, and dockerd is not installed (apt-get install docker.io)` };
  return startPrivateEngine(dockerd);
}

async function startPrivateEngine(dockerd: string): Promise<EngineResult> {
  const dir = await mkdtemp('/tmp/okb-engine-');
  const socket = `unix://${dir}/docker.sock`;
  const { openSync } = await import('node:fs');
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const child = spawn(
    dockerd,
    [
      '--storage-driver=vfs',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-masq=false',
      '--bridge=none',
      `--data-root=${dir}/data`,
      `--exec-root=${dir}/exec`,
      `--pidfile=${dir}/pid`,
      `-H`,
      socket,
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  child.unref();
  for (let waited = 0; waited < 60_000; waited += 250) {
    if (await answers(socket)) {
      return {
        engine: { dockerHost: socket, privateEngine: true, stop: () => stopPrivateEngine(dir, socket) },
      };
    }
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const tail = (await readFile(join(dir, 'dockerd.log'), 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
  await stopPrivateEngine(dir, socket);
  return { unavailable: `a private dockerd did not start: ${tail}` };
}

async function stopPrivateEngine(dir: string, socket: string): Promise<void> {
  const docker = clientFor(socket);
  const containers = await docker.listContainers({ all: true }).catch(() => []);
  await Promise.all(
    containers.map((info) =>
      docker
        .getContainer(info.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  const pid = Number((await readFile(join(dir, 'pid'), 'utf8').catch(() => '')).trim());
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    for (let waited = 0; waited < 30_000 && isAlive(pid); waited += 200) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  await unmountUnder(dir);
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

/** dockerd leaves its default network namespace mounted under exec-root. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/mounts', 'utf8').catch(() => '')).split('\n');
  const points = mounts.map((line) => line.split(' ')[1]).filter((point) => point?.startsWith(`${dir}/`));
  for (const point of points.reverse()) {
    await new Promise((resolve) => execFile('umount', ['-l', point], resolve));
  }
}

export function clientFor(dockerHost: string): Docker {
  if (dockerHost.startsWith('unix://')) return new Docker({ socketPath: dockerHost.slice('unix://'.length) });
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  return new Docker({ host: url.hostname, port: Number(url.port) });
}

async function answers(dockerHost: string): Promise<boolean> {
  try {
    const docker = clientFor(dockerHost);
    await Promise.race([docker.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000))]);
    return true;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
