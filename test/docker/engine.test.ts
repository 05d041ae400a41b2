import Docker from 'dockerode';
import { Readable, type Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
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
afterEach(() => vi.restoreAllMocks());

const MEBIBYTE = 1024 * 1024;

/** `mebibytes` of input, far more than the pipe and socket buffers between here and the command. */
function input(mebibytes: number, options: { failAfter?: number; onRead?: () => void } = {}): Readable {
  return Readable.from(
    (function* () {
      for (let chunk = 0; chunk < mebibytes * 16; chunk += 1) {
        if (chunk === options.failAfter) throw new Error('the archive could not be read any further');
        options.onRead?.();
        yield Buffer.alloc(64 * 1024, 0x61);
      }
    })(),
  );
}

/** The hijacked connections dockerode hands the adapter from exec.start, as they are made. */
function watchExecConnections(): Duplex[] {
  const execPrototype = Object.getPrototypeOf(new Docker().getExec('unused')) as { start: (...args: unknown[]) => Promise<Duplex> };
  const start = execPrototype.start;
  const connections: Duplex[] = [];
  vi.spyOn(execPrototype, 'start').mockImplementation(async function (this: unknown, ...args: unknown[]) {
    const connection = await start.apply(this, args);
    connections.push(connection);
    return connection;
  });
  return connections;
}

/** Destroyed, and soon no longer among the handles that keep the process alive. */
async function expectReleased(connection: Duplex): Promise<void> {
  expect(connection.destroyed).toBe(true);
  // Its handle closes a moment after the stream is destroyed.
  const handles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  await vi.waitFor(() => expect(handles()).not.toContain(connection), { timeout: 5_000, interval: 20 });
}

describeEngine('DockerEngine.exec with stdin', () => {
  // A connection left open after its command exits keeps the unread input queued behind it and
  // the process alive until the engine drops it: 80–130 s on Docker Engine 20.10.
  it('a command that exits without reading 32 MiB of input: the exec returns its exit code at once and destroys its connection', async () => {
    const connections = watchExecConnections();
    const started = Date.now();
    const result = await engine.exec(name, ['sh', '-c', 'head -c 1000 >/dev/null; exit 3'], { stdin: input(32) });
    expect(result.exitCode).toBe(3);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(connections).toHaveLength(1);
    await expectReleased(connections[0]);
  });

  it('a command that reads all 32 MiB of its input gets every byte, and the exec destroys its connection', async () => {
    const connections = watchExecConnections();
    const result = await engine.exec(name, ['sh', '-c', 'wc -c'], { stdin: input(32) });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe(String(32 * MEBIBYTE));
    await expectReleased(connections[0]);
  });

  // As the real mongorestore does at the end of an archive: it stops before the last of its input.
  it('a command that reads all but the last 1 MiB of its input and exits 0: the exec returns at once and destroys its connection', async () => {
    const connections = watchExecConnections();
    const started = Date.now();
    const result = await engine.exec(name, ['sh', '-c', `head -c ${31 * MEBIBYTE} | wc -c`], { stdin: input(32) });
    expect(result).toMatchObject({ exitCode: 0, stdout: `${31 * MEBIBYTE}\n` });
    expect(Date.now() - started).toBeLessThan(10_000);
    await expectReleased(connections[0]);
  });

  it('an exec without stdin destroys its connection once the command has exited', async () => {
    const connections = watchExecConnections();
    const result = await engine.exec(name, ['sh', '-c', 'echo done; echo warned >&2']);
    expect(result).toMatchObject({ exitCode: 0, stdout: 'done\n', stderr: 'warned\n' });
    await expectReleased(connections[0]);
  });

  it('an input that fails midway fails the exec with its error, with no unhandled rejection, and destroys the connection and the input', async () => {
    const connections = watchExecConnections();
    const stdin = input(32, { failAfter: 40 });
    await expect(engine.exec(name, ['sh', '-c', 'cat >/dev/null'], { stdin })).rejects.toThrow('the archive could not be read any further');
    expect(stdin.destroyed).toBe(true);
    await expectReleased(connections[0]);
  });

  // What follows a failed restore (the put-back) must not race the command still running.
  it('an input that fails midway: the command sees its input end, and the exec fails only once the command has exited', async () => {
    const connections = watchExecConnections();
    const marker = `/tmp/okb-exited-after-input-failure-${process.pid}-${Date.now()}`;
    const stdin = input(32, { failAfter: 40 });
    await expect(engine.exec(name, ['sh', '-c', `cat >/dev/null; sleep 2; touch ${marker}`], { stdin })).rejects.toThrow(
      'the archive could not be read any further',
    );
    expect((await engine.exec(name, ['test', '-e', marker])).exitCode).toBe(0);
    await expectReleased(connections[0]);
  });

  it('an abort while the input is still being written fails the exec at once, with no unhandled rejection, and destroys the connection and the input', async () => {
    const connections = watchExecConnections();
    const controller = new AbortController();
    const stdin = input(32, { onRead: () => controller.abort() });
    const started = Date.now();
    await expect(engine.exec(name, ['sleep', '30'], { stdin, signal: controller.signal })).rejects.toThrow(/sleep in \S+ was interrupted/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(stdin.destroyed).toBe(true);
    await expectReleased(connections[0]);
  });
});
