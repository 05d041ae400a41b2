import { describe, expect, it } from 'vitest';
import type { ContainerState } from '../../src/docker/containerState.js';
import { resolveEndpoint } from '../../src/s3/rustfs/endpoint.js';

function container(options: { published?: { host: string; port: number }; addresses?: string[] }): ContainerState {
  return {
    name: 'orkestra-rustfs',
    running: true,
    status: 'running',
    env: {},
    hostNetwork: false,
    networkAddresses: options.addresses ?? [],
    publishedAddress: (port) => (port === 9000 ? options.published : undefined),
  };
}

describe('object store endpoint', () => {
  it('RUSTFS_ENDPOINT wins', () => {
    expect(resolveEndpoint('http://s3.internal:9100/', container({ published: { host: '127.0.0.1', port: 19000 } }))).toEqual({
      endpoint: 'http://s3.internal:9100',
      source: 'RUSTFS_ENDPOINT',
    });
  });
  it('then the published port of 9000', () => {
    expect(
      resolveEndpoint(undefined, container({ published: { host: '127.0.0.1', port: 19000 }, addresses: ['172.18.0.4'] })).endpoint,
    ).toBe('http://127.0.0.1:19000');
  });
  it('then the address on the stack network', () => {
    expect(resolveEndpoint(undefined, container({ addresses: ['172.18.0.4'] })).endpoint).toBe('http://172.18.0.4:9000');
  });
  it('then the local default', () => {
    expect(resolveEndpoint(undefined, container({})).endpoint).toBe('http://127.0.0.1:9000');
  });
});
