import type { AvailabilityContext, Component } from '../../core/component.js';
import { containerRedis } from './container.js';
import { REDIS_SELECTORS } from './keySelectors.js';
import { type ContainerRedisPlan } from './containerPlan.js';
import { redisDrill } from './drill.js';
import { examineRedis } from './examine.js';
import { findKeys, keyGroups } from './find.js';
import { pickKeys } from './keyPicks.js';
import { onlinePlan, onlineRedis, onlineRestore, redisUrl, type OnlineRedisPlan } from './online.js';
import { containerRelayAddress } from './containerSelection.js';
import { RDB_ENTRY } from '../../redis/archivedRdb.js';
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
  async planRestore(context) {
    const transport = transportOf(context);
    // Keys are picked online in every case: without REDIS_URL, through a relay in the container.
    if (context.selection !== undefined && transport === containerRedis) return onlinePlan(await containerRelayAddress(context), context);
    return transport.planRestore(context);
  },
  async restore(context, plan) {
    if (plan.transport === 'container') return containerRedis.restore(context, plan);
    const { project, services } = context;
    const address = redisUrl((key) => project.setting(key), services.tuning.redisTimeoutMs);
    if (address === undefined && plan.keys !== undefined) return onlineRestore(await containerRelayAddress(context), context, plan);
    return onlineRedis(address!).restore(context, plan);
  },
  examine: examineRedis,
  find: findKeys,
  groups: keyGroups,
  drill: redisDrill,
  selectors: REDIS_SELECTORS,
  pickSelectors: pickKeys,
  // A selection is restored online, key by key, from the RDB snapshot alone.
  selectionReads: () => (file) => file.path === RDB_ENTRY,
};
