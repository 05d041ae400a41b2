import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { seedManySmallObjects, smallObject, smallObjectBytes, type ManySmallObjects } from '../../bench/dataset.js';
import { startS3, uniqueName, type StackContext } from '../engine/stack.js';
import { Containers, describeEngine, engineStack } from '../helpers/engine.js';
import { s3Client } from '../helpers/s3.js';

const ACCESS = 'bench-access';
const SECRET = 'bench-secret-key';
const PLAN: ManySmallObjects = {
  count: 600,
  buckets: ['avatars', 'attachments', 'thumbnails', 'documents'],
  minBytes: 1024,
  maxBytes: 16 * 1024,
};

let stack: StackContext;
const containers = new Containers();
beforeAll(() => {
  stack = engineStack();
});
afterAll(() => containers.removeAll());

describeEngine('the benchmark small-objects dataset', () => {
  it(
    'seeded (into the s3rver stand-in, or by PUTs with real images) reads back over S3 as planned: keys, bytes and MD5 ETags',
    { timeout: 120_000 },
    async () => {
      const store = containers.track(await startS3(stack, uniqueName('okb-bench-small'), { accessKey: ACCESS, secretKey: SECRET }));
      const client = s3Client(store.endpoint, ACCESS, SECRET);
      await seedManySmallObjects(stack, store.name, client, PLAN);
      const listed = new Map<string, number>();
      for (const bucket of PLAN.buckets) {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
        for (const object of page.Contents ?? []) listed.set(`${bucket}/${object.Key}`, object.Size ?? -1);
      }
      expect(listed.size).toBe(PLAN.count);
      for (const index of [0, 1, 97, 599]) {
        const { bucket, key, body } = smallObject(PLAN, index);
        expect(listed.get(`${bucket}/${key}`)).toBe(smallObjectBytes(PLAN, index));
        const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
        expect(got.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
      }
      client.destroy();
    },
  );
});
