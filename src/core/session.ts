import type { Component } from './component.js';
import type { EventListener } from '../model/events.js';
import type { Project } from '../model/project.js';
import type { Services } from './services.js';

/** What every core operation needs: the deployment, the outside world, and where to report. */
export interface Session {
  readonly project: Project;
  readonly services: Services;
  readonly components: readonly Component[];
  /**
   * A component an archive holds that this project does not declare, made from the definition
   * the archive recorded (a configured volume or directory); undefined when it cannot be.
   */
  readonly fromArchive?: (name: string, details: unknown) => Component | undefined;
  readonly onEvent: EventListener;
  readonly signal: AbortSignal;
}
