import type { EngineAccess } from './engine.js';
import { withoutFinalPeriod } from '../base/format.js';
import type { Availability } from '../model/availability.js';
import { OrkestraError, PreconditionError } from '../base/errors.js';
import type { ContainerState } from './containerState.js';

/** A Docker-backed component is available when its container exists and runs. */
export async function containerAvailability(services: EngineAccess, name: string): Promise<Availability> {
  try {
    const state = await services.docker().container(name);
    if (!state) return { available: false, reason: `no container named ${name}` };
    if (!state.running) return { available: false, reason: `container ${name} is ${state.status}` };
    return { available: true, detail: `container ${name} is running` };
  } catch (error) {
    if (error instanceof OrkestraError) return { available: false, reason: withoutFinalPeriod(error.message) };
    throw error;
  }
}

/** The state of a container that must be running for a restore or its dry-run; fails before any change otherwise. */
export async function requireRunning(services: EngineAccess, name: string): Promise<ContainerState> {
  const state = await services.docker().container(name);
  if (!state) {
    throw new PreconditionError(`no container named ${name}.`, {
      hint: 'Start the stack (or pass --container) and run again.',
    });
  }
  if (!state.running) {
    throw new PreconditionError(`container ${name} is ${state.status}, not running.`, {
      hint: `Start it (docker start ${name}) and run again.`,
    });
  }
  return state;
}
