import Docker from 'dockerode';
import type { Duplex, Readable } from 'node:stream';
import { PreconditionError } from '../base/errors.js';
import { describeContainer, type ContainerState } from './containerState.js';
import { demultiplexed } from './demux.js';
import { engineError, messageOf, statusOf } from './engineErrors.js';
import { driveExec, type ExecOptions, type ExecResult } from './execSession.js';
import {
  containerBlueprint,
  containerName,
  createOptions,
  imageBlueprint,
  labelledThings,
  type ContainerBlueprint,
  type ContainerSpec,
  type LabelledThings,
} from './throwaway.js';

/**
 * The Docker Engine API, through dockerode, with the few operations the components need.
 * The connection honours DOCKER_HOST like the docker CLI. Failures to reach the engine become
 * one PreconditionError naming the address that was tried.
 */
/** What hands out the engine, connected on first use: a run that never needs Docker never opens it. */
export interface EngineAccess {
  docker(): DockerEngine;
}

export class DockerEngine {
  private constructor(
    private readonly docker: Docker,
    readonly address: string,
  ) {}

  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): DockerEngine {
    const address = env.DOCKER_HOST ? `DOCKER_HOST=${env.DOCKER_HOST}` : 'unix:///var/run/docker.sock';
    try {
      return new DockerEngine(new Docker(), address);
    } catch (error) {
      throw new PreconditionError(`cannot use the Docker engine at ${address}: ${messageOf(error)}.`);
    }
  }

  /** The container's state, or undefined when no container has that name. */
  async container(name: string): Promise<ContainerState | undefined> {
    const info = await this.inspect(name);
    return info && describeContainer(name, info);
  }

  private async inspect(name: string): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(name).inspect();
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.engineError(error, `inspecting ${name}`);
    }
  }

  /**
   * Runs a command in a running container without a TTY. Stdout streams to `options.stdout`
   * (with backpressure) or is collected when none is given; stderr is kept (its last 64 KiB).
   * When it returns or throws, the exec's connection is gone: nothing of it keeps the process alive.
   */
  async exec(name: string, command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const container = this.docker.getContainer(name);
    let connection: Duplex;
    let exec: Docker.Exec;
    try {
      exec = await container.exec({
        Cmd: command,
        Env: Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`),
        AttachStdin: Boolean(options.stdin),
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
      });
      connection = await exec.start({ hijack: true, stdin: Boolean(options.stdin) });
    } catch (error) {
      throw this.engineError(error, `running ${command[0]} in ${name}`);
    }
    return driveExec(exec, connection, { program: command[0], container: name }, options);
  }

  /** A tar stream of a path in the container (the Docker archive API, like `docker cp` out), or undefined when the path does not exist. */
  async getArchive(name: string, path: string): Promise<Readable | undefined> {
    try {
      return (await this.docker.getContainer(name).getArchive({ path })) as unknown as Readable;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.engineError(error, `copying ${path} out of ${name}`);
    }
  }

  /**
   * Extracts a tar stream into a folder of the container (like `docker cp` in). The stream is
   * destroyed if the copy fails: a source left open (another container's getArchive, say) would
   * keep the engine busy with the container and block a later start.
   */
  async putArchive(
    name: string,
    folder: string,
    tar: Readable,
    signal?: AbortSignal,
    options: { keepOwners?: boolean } = {},
  ): Promise<void> {
    try {
      const owners = options.keepOwners ? { copyUIDGID: '1' } : {};
      await this.docker.getContainer(name).putArchive(tar, { path: folder, abortSignal: signal, ...owners });
    } catch (error) {
      throw this.engineError(error, `copying into ${folder} of ${name}`);
    } finally {
      if (!tar.readableEnded) tar.destroy();
    }
  }

  /** The last lines of a container's log (stdout and stderr), joined on one line. */
  async logTail(name: string, lines: number): Promise<string> {
    let raw: Buffer;
    try {
      raw = await this.docker.getContainer(name).logs({ stdout: true, stderr: true, tail: lines, follow: false });
    } catch (error) {
      throw this.engineError(error, `reading the log of ${name}`);
    }
    return demultiplexed(raw)
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .slice(-lines)
      .join(' / ');
  }

  /** How a container was made (image, command, environment…), for a throwaway copy of it; undefined when absent. */
  async blueprint(name: string): Promise<ContainerBlueprint | undefined> {
    const info = await this.inspect(name);
    return info && containerBlueprint(info);
  }

  /** A blueprint for a container of an image alone (its own command and volumes), or undefined when the engine lacks the image. */
  async imageBlueprint(image: string): Promise<ContainerBlueprint | undefined> {
    let info: Docker.ImageInspectInfo;
    try {
      info = await this.docker.getImage(image).inspect();
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.engineError(error, `inspecting image ${image}`);
    }
    return imageBlueprint(image, info);
  }

  /** Creates a network of the given labels, isolated from the outside (internal). */
  async createNetwork(name: string, labels: Readonly<Record<string, string>>): Promise<void> {
    try {
      await this.docker.createNetwork({ Name: name, Driver: 'bridge', Internal: true, Labels: { ...labels } });
    } catch (error) {
      throw this.engineError(error, `creating network ${name}`);
    }
  }

  async createVolume(name: string, labels: Readonly<Record<string, string>>): Promise<void> {
    try {
      await this.docker.createVolume({ Name: name, Labels: { ...labels } });
    } catch (error) {
      throw this.engineError(error, `creating volume ${name}`);
    }
  }

  /** Creates and starts a container; nothing is published on the host. */
  async run(spec: ContainerSpec): Promise<void> {
    try {
      const container = await this.docker.createContainer(createOptions(spec));
      await container.start();
    } catch (error) {
      throw this.engineError(error, `starting ${spec.name}`);
    }
  }

  /** Containers, networks and volumes carrying a label (`key` or `key=value`), with their labels. */
  async labelled(label: string): Promise<LabelledThings> {
    const filters = JSON.stringify({ label: [label] });
    try {
      const [containers, networks, volumes] = await Promise.all([
        this.docker.listContainers({ all: true, filters }),
        this.docker.listNetworks({ filters }),
        this.docker.listVolumes({ filters }),
      ]);
      return labelledThings(containers, networks, volumes.Volumes ?? []);
    } catch (error) {
      throw this.engineError(error, `listing what carries the label ${label}`);
    }
  }

  /** Where a container mounts volumes and bind mounts (empty when it has none). */
  async mountPoints(name: string): Promise<string[]> {
    return ((await this.inspect(name))?.Mounts ?? []).map((mount) => mount.Destination);
  }

  /** Whether a named volume exists. */
  async volumeExists(name: string): Promise<boolean> {
    try {
      await this.docker.getVolume(name).inspect();
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw this.engineError(error, `inspecting volume ${name}`);
    }
  }

  /** The containers that mount a named volume, running ones first, each with where it mounts it. */
  async volumeUsers(volume: string): Promise<{ name: string; running: boolean; path: string }[]> {
    try {
      const containers = await this.docker.listContainers({ all: true, filters: JSON.stringify({ volume: [volume] }) });
      return containers
        .map((container) => ({
          name: containerName(container),
          running: container.State === 'running',
          path: container.Mounts.find((mount) => mount.Name === volume)?.Destination ?? '',
        }))
        .filter((user) => user.path !== '')
        .sort((a, b) => Number(b.running) - Number(a.running) || a.name.localeCompare(b.name));
    } catch (error) {
      throw this.engineError(error, `listing the containers of volume ${volume}`);
    }
  }

  /**
   * Runs a one-off command in a new container of `image` that mounts every volume of `volumesFrom`
   * (stopped or not), with no network, and removes it: how a stopped container's folder is emptied.
   */
  async runWithVolumesOf(volumesFrom: string, image: string, command: string[]): Promise<{ exitCode: number; log: string }> {
    let container: Docker.Container | undefined;
    try {
      container = await this.docker.createContainer({
        Image: image,
        Entrypoint: [command[0]],
        Cmd: command.slice(1),
        User: '0',
        Labels: { 'orkestra-backup.helper': 'volume' },
        HostConfig: { VolumesFrom: [volumesFrom], NetworkMode: 'none' },
      });
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const raw = await container.logs({ stdout: true, stderr: true, follow: false, tail: 5 });
      return { exitCode: StatusCode, log: demultiplexed(raw).trim() };
    } catch (error) {
      throw this.engineError(error, `running ${command[0]} with the volumes of ${volumesFrom}`);
    } finally {
      await container?.remove({ force: true }).catch(() => undefined);
    }
  }

  /** Removes a container (running or not) with its anonymous volumes; one already gone is fine. */
  async removeContainer(name: string): Promise<void> {
    await this.docker
      .getContainer(name)
      .remove({ force: true, v: true })
      .catch((error: unknown) => {
        if (statusOf(error) !== 404) throw this.engineError(error, `removing ${name}`);
      });
  }

  async removeNetwork(name: string): Promise<void> {
    await this.docker
      .getNetwork(name)
      .remove()
      .catch((error: unknown) => {
        if (statusOf(error) !== 404) throw this.engineError(error, `removing network ${name}`);
      });
  }

  async removeVolume(name: string): Promise<void> {
    await this.docker
      .getVolume(name)
      .remove({ force: true })
      .catch((error: unknown) => {
        if (statusOf(error) !== 404) throw this.engineError(error, `removing volume ${name}`);
      });
  }

  async stop(name: string, timeoutSeconds = 30): Promise<void> {
    try {
      await this.docker.getContainer(name).stop({ t: timeoutSeconds });
    } catch (error) {
      if (statusOf(error) === 304) return; // already stopped
      throw this.engineError(error, `stopping ${name}`);
    }
  }

  async start(name: string): Promise<void> {
    try {
      await this.docker.getContainer(name).start();
    } catch (error) {
      if (statusOf(error) === 304) return; // already running
      throw this.engineError(error, `starting ${name}`);
    }
  }

  private engineError(error: unknown, doing: string): Error {
    return engineError(error, doing, this.address);
  }
}
