import type { ContainerState } from '../../docker/containerState.js';

const S3_PORT = 9000;

/**
 * Where the object store answers, in the spec's order: RUSTFS_ENDPOINT, else the host port
 * published for the container's 9000, else the container's address on its (stack) network,
 * else the local default.
 */
export function resolveEndpoint(
  configured: string | undefined,
  container: ContainerState | undefined,
): { endpoint: string; source: string } {
  if (configured) return { endpoint: configured.replace(/\/+$/, ''), source: 'RUSTFS_ENDPOINT' };
  const published = container?.publishedAddress(S3_PORT);
  if (published)
    return { endpoint: `http://${published.host}:${published.port}`, source: `port ${S3_PORT} published by ${container!.name}` };
  const address = container?.networkAddresses[0];
  if (address) return { endpoint: `http://${address}:${S3_PORT}`, source: `${container.name} on its network` };
  return { endpoint: `http://127.0.0.1:${S3_PORT}`, source: 'default' };
}
