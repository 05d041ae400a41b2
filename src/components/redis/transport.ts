import type { Availability } from '../../model/availability.js';
import type {
  AvailabilityContext,
  BackupContext,
  BackupResult,
  PlanContext,
  RestoreContext,
  RestorePlan,
  RestoreResult,
} from '../../core/component.js';

/**
 * One way of reaching Redis: its container through Docker, or a server at REDIS_URL. The
 * component picks one per operation and hands it the whole operation.
 */
export interface RedisTransport<Plan extends RestorePlan> {
  availability(context: AvailabilityContext): Promise<Availability>;
  backup(context: BackupContext): Promise<BackupResult>;
  planRestore(context: PlanContext): Promise<Plan>;
  restore(context: RestoreContext, plan: Plan): Promise<RestoreResult>;
}
