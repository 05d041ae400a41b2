import { PreconditionError } from '../../base/errors.js';
import type { AvailabilityContext } from '../../core/component.js';
import { requireRunning } from '../../docker/containers.js';
import { openExecRelay } from '../../redis/execRelay.js';
import { parseConfigPairs } from '../../redis/layout.js';
import { REDIS_DEFAULT_CONTAINER } from '../../redis/projectRedis.js';
import { RedisCli } from '../../redis/cli.js';
import type { RedisAddress } from '../../redis/resp.js';

/**
 * The Redis of the project's container as a selective restore talks to it without REDIS_URL:
 * RESP over a relay the engine runs inside the container (`redis/execRelay.ts`), to the address
 * and port Redis listens on there. The password is REDIS_PASSWORD (docker/.env, else the
 * container's environment), sent in AUTH.
 */
export async function containerRelayAddress({ project, services }: AvailabilityContext): Promise<RedisAddress> {
  const docker = services.docker();
  const container = project.containerName('redis', REDIS_DEFAULT_CONTAINER);
  const state = await requireRunning({ docker: () => docker }, container);
  const password = project.setting('REDIS_PASSWORD', state.env);
  const cli = new RedisCli(docker, container, password);
  const config = parseConfigPairs(await cli.run('CONFIG', 'GET', 'port'));
  Object.assign(config, parseConfigPairs(await cli.run('CONFIG', 'GET', 'bind')));
  const port = Number(config.port);
  if (!Number.isInteger(port) || port <= 0) {
    throw new PreconditionError(
      `Redis in ${container} listens on no TCP port (port ${config.port ?? '?'}), which a selective restore needs.`,
      {
        hint: 'Set REDIS_URL to an address this host reaches, or restore Redis whole. Nothing was touched.',
      },
    );
  }
  const host = listenAddress(config.bind);
  return {
    host,
    port,
    tls: false,
    password,
    db: 0,
    shown: container,
    idleMs: services.tuning.redisTimeoutMs,
    open: () => openExecRelay(docker, container, host, port),
  };
}

/** Where to reach Redis inside its container: its first bound IPv4 address, loopback when it listens on all. */
function listenAddress(bind: string | undefined): string {
  const first = (bind ?? '').trim().split(/\s+/)[0]?.replace(/^-/, '') ?? '';
  return /^\d+\.\d+\.\d+\.\d+$/.test(first) && first !== '0.0.0.0' ? first : '127.0.0.1';
}
