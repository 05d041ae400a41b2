import { PreconditionError, UsageError } from '../../base/errors.js';
import { withoutFinalPeriod } from '../../base/format.js';
import type { Availability } from '../../model/availability.js';
import type { Component } from '../component.js';
import type { Session } from '../session.js';
import type { BackupPlan } from './plan.js';

export interface ComponentStatus {
  component: Component;
  availability: Availability;
}

/**
 * Every component's availability, asked in parallel; a failure to ask is a reason, not a crash —
 * except bad input (a malformed MONGO_URI), which stops the run with exit 2.
 */
export async function componentStatuses(session: Session): Promise<ComponentStatus[]> {
  return Promise.all(
    session.components.map(async (component) => {
      try {
        return { component, availability: await component.availability(session) };
      } catch (error) {
        if (error instanceof UsageError) throw error;
        return { component, availability: { available: false, reason: reasonOf(error) } as Availability };
      }
    }),
  );
}

/**
 * What a backup captures: a component named explicitly must be available; with `all`,
 * unavailable ones are skipped and reported. Nothing available at all is an error.
 */
export function chooseComponents(
  selection: { all: true } | { all: false; components: readonly Component[] },
  statuses: readonly ComponentStatus[],
): Pick<BackupPlan, 'components' | 'skipped' | 'transports'> {
  const wanted = selection.all ? statuses : statuses.filter(({ component }) => selection.components.includes(component));
  const missing = wanted.filter(({ availability }) => !availability.available);
  if (!selection.all && missing.length > 0) {
    const reasons = missing.map(({ component, availability }) => `${component.name} (${reasonOf(availability)})`);
    throw new PreconditionError(`cannot back up ${reasons.join('; ')}.`, {
      hint: 'Nothing was written. Start what is stopped (or create what is missing), or leave it out of --components.',
    });
  }
  const components = wanted.filter(({ availability }) => availability.available).map(({ component }) => component);
  if (components.length === 0) {
    throw new PreconditionError('nothing to back up: no component is available on this host.', {
      hint: missing.map(({ component, availability }) => `${component.name}: ${reasonOf(availability)}.`).join(' '),
    });
  }
  const skipped = missing.map(({ component, availability }) => ({ component: component.name, reason: reasonOf(availability) }));
  const transports = wanted.flatMap(({ component, availability }) =>
    availability.available && availability.detail ? [{ component: component.name, detail: availability.detail }] : [],
  );
  return { components, skipped, transports };
}

/** Why a component is unavailable or failed, as one clause. */
export function reasonOf(source: unknown): string {
  if (source && typeof source === 'object' && 'reason' in source) return String((source as { reason: string }).reason);
  return source instanceof Error ? withoutFinalPeriod(source.message) : String(source);
}
