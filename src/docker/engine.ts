import Docker from 'dockerode';
import type { Duplex, Readable } from 'node:stream';
import { AbortedError, PreconditionError, RuntimeError } from '../base/errors.js';
import { demultiplexed } from './demux.js';
import { driveExec, type ExecOptions, type ExecResult } from './execSession.js';

export interface ContainerState {
  readonly name: string;
  readonly running: boolean;
  /** Docker's word for it: running, exited, paused, restarting… */
  readonly status: string;
  /** The container's own environment (Config.Env), for settings the project does not give. */
  readonly env: Readonly<Record<string, string>>;
  /** host:port published for a container port, when there is one. */
  publishedAddress(containerPort: number): { host: string; port: number } | undefined;
  /** IP addresses on the container's networks (the stack network first). */
  readonly networkAddresses: readonly string[];
  readonly hostNetwork: boolean;
}

/** What a throwaway copy of a container is made from. */
export interface ContainerBlueprint {
  /** The image's ID: the copy runs exactly the live container's image even if its tag moved since. */
  readonly image: string;
  /** The name the image was given (for messages). */
  readonly imageName: string;
  readonly cmd?: string[];
  readonly entrypoint?: string[];
  /** KEY=value pairs. */
  readonly env: readonly string[];
  readonly user?: string;
  readonly workingDir?: string;
  /** Paths the image or the container declares as volumes (where data lives). */
  readonly volumes: readonly string[];
  readonly memoryBytes?: number;
}

export interface ContainerSpec {
  readonly name: string;
  readonly blueprint: ContainerBlueprint;
  readonly labels: Readonly<Record<string, string>>;
  readonly network: string;
  readonly memoryBytes: number;
  readonly volumes: readonly { name: string; path: string }[];
}

export interface LabelledThing {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface LabelledThings {
  readonly containers: readonly LabelledThing[];
  readonly networks: readonly LabelledThing[];
  readonly volumes: readonly LabelledThing[];
}

/**
 * The Docker Engine API, through dockerode, with the few operations the components need.
 * The connection honours DOCKER_HOST like the docker CLI. Failures to reach the engine become
 * one PreconditionError naming the address that was tried.
 */
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
    if (!info) return undefined;
    return {
      image: info.Image,
      imageName: info.Config?.Image ?? info.Image,
      cmd: info.Config?.Cmd ?? undefined,
      entrypoint: toList(info.Config?.Entrypoint),
      env: info.Config?.Env ?? [],
      user: info.Config?.User || undefined,
      workingDir: info.Config?.WorkingDir || undefined,
      volumes: Object.keys(info.Config?.Volumes ?? {}),
      memoryBytes: info.HostConfig?.Memory || undefined,
    };
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
    return { image: info.Id, imageName: image, env: [], volumes: Object.keys(info.Config?.Volumes ?? {}) };
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
      const container: Docker.Container = await this.docker.createContainer({
        name: spec.name,
        Image: spec.blueprint.image,
        Cmd: spec.blueprint.cmd,
        Entrypoint: spec.blueprint.entrypoint,
        Env: [...spec.blueprint.env],
        User: spec.blueprint.user,
        WorkingDir: spec.blueprint.workingDir,
        Labels: { ...spec.labels },
        HostConfig: {
          NetworkMode: spec.network,
          Memory: spec.memoryBytes,
          Init: true,
          Mounts: spec.volumes.map(({ name, path }) => ({ Type: 'volume' as const, Source: name, Target: path })),
        },
      });
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
      return {
        containers: containers.map((c) => ({ name: (c.Names[0] ?? c.Id).replace(/^\//, ''), labels: c.Labels ?? {} })),
        networks: networks.map((n) => ({ name: n.Name, labels: n.Labels ?? {} })),
        volumes: (volumes.Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} })),
      };
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
          name: (container.Names[0] ?? container.Id).replace(/^\//, ''),
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
    if ((error as Error).name === 'AbortError') return new AbortedError(`${doing} was interrupted.`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES' || code === 'ECONNRESET' || code === 'EHOSTUNREACH') {
      const unset = this.address.startsWith('DOCKER_HOST=') ? '' : '; DOCKER_HOST is not set';
      return new PreconditionError(`cannot reach the Docker engine at ${this.address} (${code}${unset}).`, {
        hint: 'Start Docker or set DOCKER_HOST to a reachable engine.',
      });
    }
    return new RuntimeError(`Docker engine error while ${doing}: ${messageOf(error)}.`);
  }
}

function describeContainer(name: string, info: Docker.ContainerInspectInfo): ContainerState {
  const env: Record<string, string> = {};
  for (const pair of info.Config?.Env ?? []) {
    const equals = pair.indexOf('=');
    if (equals > 0) env[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  const networks = Object.entries(info.NetworkSettings?.Networks ?? {});
  const ports = info.NetworkSettings?.Ports ?? {};
  return {
    name,
    running: Boolean(info.State?.Running),
    status: info.State?.Status ?? 'unknown',
    env,
    hostNetwork: info.HostConfig?.NetworkMode === 'host',
    networkAddresses: networks
      .sort(([a], [b]) => Number(b.includes('orkestra')) - Number(a.includes('orkestra')))
      .map(([, network]) => network.IPAddress)
      .filter((address): address is string => Boolean(address)),
    publishedAddress(containerPort) {
      const binding = ports[`${containerPort}/tcp`]?.[0];
      if (!binding?.HostPort) return undefined;
      const host = !binding.HostIp || binding.HostIp === '0.0.0.0' || binding.HostIp === '::' ? '127.0.0.1' : binding.HostIp;
      return { host, port: Number(binding.HostPort) };
    },
  };
}

function toList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? [value] : value;
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].replace(/^\(HTTP code \d+\)\s*/, '');
}
