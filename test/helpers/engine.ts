import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, inject } from 'vitest';
import { stackContext, type RunningContainer, type StackContext } from '../engine/stack.js';

const provided = inject('engine');

/** A describe block that needs the real engine; skipped (with the reason printed once by globalSetup) without one. */
export const describeEngine = describe.skipIf('unavailable' in provided);

export function engineStack(): StackContext {
  if ('unavailable' in provided) throw new Error(`no engine: ${provided.unavailable}`);
  return stackContext(provided.dockerHost, provided.images);
}

export const imageMode = 'unavailable' in provided ? 'none' : provided.images.mode;

/** Environment for running the binary against the test engine. */
export function engineEnv(): NodeJS.ProcessEnv {
  if ('unavailable' in provided) return {};
  return { DOCKER_HOST: provided.dockerHost };
}

/** Containers a test file started, removed in afterAll. */
export class Containers {
  private readonly started: RunningContainer[] = [];

  track<T extends RunningContainer>(container: T): T {
    this.started.push(container);
    return container;
  }

  async removeAll(): Promise<void> {
    await Promise.all(this.started.splice(0).map((container) => container.remove()));
  }
}

export async function writeDotenv(project: string, values: Record<string, string>): Promise<void> {
  await mkdir(join(project, 'docker'), { recursive: true });
  const text = Object.entries(values)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n');
  await writeFile(join(project, 'docker/.env'), `${text}\n`, { mode: 0o600 });
}
