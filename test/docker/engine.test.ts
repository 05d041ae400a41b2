import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DockerEngine } from '../../src/docker/engine.js';
import { Containers, describeEngine, engineEnv, engineStack } from '../helpers/engine.js';
import { startMongo, uniqueName } from '../engine/stack.js';

const containers = new Containers();
let name: string;
let engine: DockerEngine;

beforeAll(async () => {
  // Any running container with a shell will do; the MongoDB one has busybox.
  name = containers.track(await startMongo(engineStack(), uniqueName('okb-exec'))).name;
  Object.assign(process.env, engineEnv()); // dockerode reads DOCKER_HOST from the environment
  engine = DockerEngine.fromEnvironment();
});
afterAll(() => containers.removeAll());

function twoMebibytes(): Readable {
  return Readable.from(
    (function* () {
      for (let chunk = 0; chunk < 32; chunk += 1) yield Buffer.alloc(64 * 1024, 0x61);
    })(),
  );
}

describeEngine('DockerEngine.exec with stdin', () => {
  // Before the fix, an exec whose command exited without reading its input returned only
  // after about 120 s (Docker Engine 20.10): the engine waited for the stdin side to close.
  it('returns as soon as a command exits without reading its input, with its exit code', async () => {
    const started = Date.now();
    const result = await engine.exec(name, ['sh', '-c', 'exit 3'], { stdin: twoMebibytes() });
    expect(result.exitCode).toBe(3);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('feeds every byte to a command that reads them all', async () => {
    const result = await engine.exec(name, ['sh', '-c', 'wc -c'], { stdin: twoMebibytes() });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe(String(2 * 1024 * 1024));
  });
});
