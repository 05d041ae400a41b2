import type { RestorePlan } from '../../core/component.js';
import type { RedisLayout } from '../../redis/layout.js';

/** What a restore into Redis's container will do: the container, its live layout, and what the archive brings. */
export interface ContainerRedisPlan extends RestorePlan {
  readonly transport: 'container';
  readonly container: string;
  readonly live: RedisLayout;
  readonly backupAppendfilename: string;
  readonly hasAof: boolean;
}
