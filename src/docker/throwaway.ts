import type Docker from 'dockerode';

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

/** How a live container was made, read from the engine's inspect answer. */
export function containerBlueprint(info: Docker.ContainerInspectInfo): ContainerBlueprint {
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

/** A container of an image alone: its own command and volumes. */
export function imageBlueprint(imageName: string, info: Docker.ImageInspectInfo): ContainerBlueprint {
  return { image: info.Id, imageName, env: [], volumes: Object.keys(info.Config?.Volumes ?? {}) };
}

/** The engine's create options for a throwaway container: on the given network, nothing published on the host. */
export function createOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
  return {
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
  };
}

/** The engine's listings reduced to names and labels. */
export function labelledThings(
  containers: Docker.ContainerInfo[],
  networks: Docker.NetworkInspectInfo[],
  volumes: Docker.VolumeInspectInfo[],
): LabelledThings {
  return {
    containers: containers.map((c) => ({ name: containerName(c), labels: c.Labels ?? {} })),
    networks: networks.map((n) => ({ name: n.Name, labels: n.Labels ?? {} })),
    volumes: volumes.map((v) => ({ name: v.Name, labels: v.Labels ?? {} })),
  };
}

/** A listed container's name without the engine's leading slash (its ID when it has no name). */
export function containerName(container: Docker.ContainerInfo): string {
  return (container.Names[0] ?? container.Id).replace(/^\//, '');
}

function toList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? [value] : value;
}
