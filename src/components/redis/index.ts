import type { AvailabilityContext, Component } from '../../core/component.js';
import { PreconditionError } from '../../base/errors.js';
import { containerRedis } from './container.js';
import { REDIS_SELECTORS } from './keySelectors.js';
import { type ContainerRedisPlan } from './containerPlan.js';
import { redisDrill } from './drill.js';
import { examineRedis } from './examine.js';
import { onlineRedis, redisUrl, type OnlineRedisPlan } from './online.js';
import type { RedisTransport } from './transport.js';

type RedisPlan = ContainerRedisPlan | OnlineRedisPlan;

/** REDIS_URL set: the server at that address; else the project's container. */
function transportOf({ project, services }: AvailabilityContext): RedisTransport<ContainerRedisPlan> | RedisTransport<OnlineRedisPlan> {
  const address = redisUrl((key) => project.setting(key), services.tuning.redisTimeoutMs);
  return address ? onlineRedis(address) : containerRedis;
}

/**
 * Redis: the RDB snapshot and AOF files of its container, or, with REDIS_URL, a server reached
 * without Docker (see `container.ts` and `online.ts`). A restore takes the way its plan was made.
 */
export const redis: Component<RedisPlan> = {
  name: 'redis',
  title: 'Redis',
  availability: (context) => transportOf(context).availability(context),
  backup: (context) => transportOf(context).backup(context),
  planRestore(context) {
    const transport = transportOf(context);
    if (context.selection !== undefined && transport === containerRedis) {
      throw new PreconditionError('selective Redis restore needs REDIS_URL for now.', {
        hint: "Set REDIS_URL (or --redis-url) to the container's Redis as this host reaches it (a published port), or restore Redis whole. Nothing was touched.",
      });
    }
    return transport.planRestore(context);
  },
  restore(context, plan) {
    if (plan.transport === 'container') return containerRedis.restore(context, plan);
    const { project, services } = context;
    return onlineRedis(redisUrl((key) => project.setting(key), services.tuning.redisTimeoutMs)!).restore(context, plan);
  },
  examine: examineRedis,
  drill: redisDrill,
  selectors: REDIS_SELECTORS,
};
