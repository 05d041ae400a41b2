import { COMPONENTS } from '../components/index.js';
import type { EventListener } from '../core/events.js';
import { openProject } from '../core/project.js';
import { createServices } from '../core/services.js';
import type { Session } from '../core/session.js';
import type { CommonArgs } from './args.js';

export async function openSession(common: CommonArgs, onEvent: EventListener, signal: AbortSignal): Promise<Session> {
  const project = await openProject({
    projectDir: common.projectDir,
    environment: common.env,
    containers: common.containers,
    settings: common.settings,
  });
  return { project, services: createServices(), components: COMPONENTS, onEvent, signal };
}
