import type Docker from 'dockerode';

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

/** A container's state as read from the engine's inspect answer. */
export function describeContainer(name: string, info: Docker.ContainerInspectInfo): ContainerState {
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
