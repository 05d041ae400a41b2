import type { TestProject } from 'vitest/node';
import { acquireEngine, clientFor } from './engine.js';
import { prepareImages, type TestImages } from './images.js';

declare module 'vitest' {
  export interface ProvidedContext {
    engine: { dockerHost: string; privateEngine: boolean; images: TestImages } | { unavailable: string };
  }
}

/**
 * Gets one engine and builds the images once for the whole run; test files read them with
 * inject('engine'). When no engine can be had the engine tests skip with the reason — unless
 * ORKESTRA_TEST_REQUIRE_ENGINE=1 (CI), where that is a failure.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const result = await acquireEngine();
  if ('unavailable' in result) {
    if (process.env.ORKESTRA_TEST_REQUIRE_ENGINE === '1') {
      throw new Error(`engine tests required (ORKESTRA_TEST_REQUIRE_ENGINE=1) but ${result.unavailable}`);
    }
    console.warn(`engine tests skipped: ${result.unavailable}`);
    project.provide('engine', { unavailable: result.unavailable });
    return async () => undefined;
  }
  const { engine } = result;
  try {
    const images = await prepareImages(clientFor(engine.dockerHost));
    project.provide('engine', { dockerHost: engine.dockerHost, privateEngine: engine.privateEngine, images });
  } catch (error) {
    await engine.stop();
    throw error;
  }
  return () => engine.stop();
}
