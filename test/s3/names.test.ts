import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRanges } from '../../src/s3/client/multipart.js';
import { escapeDotSegments, isValidBucketName } from '../../src/s3/client/names.js';
import { ObjectStore } from '../../src/s3/client/store.js';
import { manifestFor, writeRawArchive } from '../helpers/archives.js';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

describe('S3 names from an archive', () => {
  it('bucket names follow S3 rules', () => {
    for (const name of ['avatars', 'docs.v2', 'a-b-c', '123']) expect(isValidBucketName(name)).toBe(true);
    for (const name of ['..', '.', 'ab', 'A-upper', 'a..b', '-lead', 'trail-', 'a.-b', '192.168.1.1', 'a/b', 'x'.repeat(64), '']) {
      expect(isValidBucketName(name)).toBe(false);
    }
  });

  it('dot segments of a key are escaped, other segments left as the SDK wrote them', () => {
    expect(escapeDotSegments('/bucket/../../other-bucket/owned')).toBe('/bucket/%2E%2E/%2E%2E/other-bucket/owned');
    expect(escapeDotSegments('/bucket/a/./b')).toBe('/bucket/a/%2E/b');
    expect(escapeDotSegments('/bucket/.hidden/..x')).toBe('/bucket/.hidden/..x');
  });

  it('a copy over 5 GiB is cut into byte ranges that cover the object exactly', () => {
    expect(copyRanges(10, 4)).toEqual(['bytes=0-3', 'bytes=4-7', 'bytes=8-9']);
    const ranges = copyRanges(12 * 1024 ** 3 + 1);
    expect(ranges).toHaveLength(13);
    expect(ranges.at(-1)).toBe(`bytes=${12 * 1024 ** 3}-${12 * 1024 ** 3}`);
  });

  it('an archive naming bucket ".." is refused before any request, exit 2', async () => {
    const project = await makeProject();
    const details = { rustfs: { buckets: [{ name: '..', objects: [] }] } };
    const manifest = manifestFor([], { components: ['rustfs'], details });
    const archive = join(project, 'backups', 'bucket.tar.gz');
    await writeRawArchive(archive, [{ path: 'manifest.json', content: JSON.stringify(manifest) }]);
    const result = await runCli(['restore', archive, '--dry-run'], { cwd: project, env: { DOCKER_HOST: 'unix:///nonexistent.sock' } });
    expect(result.stderr).toContain('".." is not a valid S3 bucket name');
    expect(result.code).toBe(2);
  });
});

describe('what the store receives', () => {
  const paths: string[] = [];
  let server: Server;
  let endpoint: string;
  beforeAll(async () => {
    // A server that logs the raw request line's path, as it arrives, and accepts every upload.
    server = createServer((request, response) => {
      paths.push(request.url ?? '');
      request.resume();
      request.on('end', () => {
        response.setHeader('ETag', '"00000000000000000000000000000000"');
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('a key with ../ segments reaches the server as that key, inside its bucket', async () => {
    const store = new ObjectStore({ endpoint, accessKeyId: 'k', secretAccessKey: 's' });
    try {
      await store.putBuffer('bucket', '../../other-bucket/owned', Buffer.from('x'), {});
    } finally {
      store.destroy();
    }
    expect(paths.at(-1)?.split('?')[0]).toBe('/bucket/%2E%2E/%2E%2E/other-bucket/owned');
  });
});
