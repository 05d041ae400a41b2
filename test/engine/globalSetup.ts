import type { TestProject } from 'vitest/node';
import { acquireEngine, clientFor } from './engine.js';
import { prepareImages, type TestImages } from './images.js';
import { prepareNode22 } from './node22.js';

declare module 'vitest' {
  export interface ProvidedContext {
    engine: { dockerHost: string; privateEngine: boolean; images: TestImages } | { unavailable: string };
    node22: { node: string } | { unavailable: string };
  }
}

/**
 * Gets one engine and builds the images once for the whole run; test files read them with
 * inject('engine'). When no engine can be had the engine tests skip with the reason — unless
 * ORKESTRA_TEST_REQUIRE_ENGINE=1 (CI), where that is a failure.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const node22 = await prepareNode22();
  if ('unavailable' in node22) {
    if (process.env.ORKESTRA_TEST_REQUIRE_ENGINE === '1') throw new Error(`the off-site server needs Node 22, but ${node22.unavailable}`);
    console.warn(`off-site server tests skipped: ${node22.unavailable}`);
  }
  project.provide('node22', node22);
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
