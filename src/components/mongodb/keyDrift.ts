import { PreconditionError } from '../../base/errors.js';
import type { PlanContext, RestorePlan } from '../../core/component.js';
import { keyDrift, type KeyDrift } from '../../core/keyFingerprints.js';
import { SECRETS } from '../../archive/archiveNames.js';

const DRIFT_HINT =
  'Restore the secrets of the same backup too (-c mongodb,secrets), put the old keys back in docker/.env, or pass --accept-key-drift if you know why they changed.';

/** One line for the dry run and the refusal: the keys by name (never a value) and what is at stake. */
export function describeDrift(drift: readonly KeyDrift[]): string {
  const keys = drift.map(({ name, change }) => `${name} (${change})`).join(', ');
  return (
    `docker/.env holds other encryption keys than when this backup was made: ${keys}. ` +
    'Encrypted secrets and per-tenant keys restored into MongoDB would be unreadable with them'
  );
}

/**
 * MongoDB's data is encrypted with keys from docker/.env: restored under other keys it cannot be
 * read. A restore of mongodb that does not bring back the backup's secrets is checked against
 * the fingerprints the backup recorded: refused before anything is planned, or, with
 * ORKESTRA_ACCEPT_KEY_DRIFT (--accept-key-drift), planned with the drift as a warning.
 */
export async function checkedForKeyDrift<Plan extends RestorePlan>(context: PlanContext, plan: () => Promise<Plan>): Promise<Plan> {
  const drift = driftOf(context);
  if (drift && context.project.setting('ORKESTRA_ACCEPT_KEY_DRIFT') !== 'yes')
    throw new PreconditionError(`${drift}.`, { hint: DRIFT_HINT });
  const planned = await plan();
  return drift ? { ...planned, warnings: [...planned.warnings, `${drift} (accepted)`] } : planned;
}

function driftOf({ manifest, restoring, project }: PlanContext): string | undefined {
  if (restoring.includes(SECRETS)) return undefined;
  const drift = keyDrift(manifest, (key) => project.setting(key));
  return drift.length > 0 ? describeDrift(drift) : undefined;
}
