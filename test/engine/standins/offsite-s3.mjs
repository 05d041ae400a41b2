// The off-site S3 server of the tests: fauxqs (npm) — a real S3 protocol server
// that, unlike s3rver, implements AbortMultipartUpload. It lacks ListMultipartUploads, so this
// wrapper adds GET /__multipart-uploads: the uploads still open in its store, from the store
// itself, which is what a test of "no parts left behind" must look at.
// Usage: node offsite-s3.mjs <port> <bucket>...   (prints "listening <port>" when ready)
import { buildApp } from 'fauxqs';

// The store class is not among the package's exports; it sits beside its entry point.
const { S3Store } = await import(new URL('./s3/s3Store.js', import.meta.resolve('fauxqs')).href);

const [port, ...buckets] = process.argv.slice(2);
const s3Store = new S3Store();
for (const bucket of buckets) s3Store.createBucket(bucket);
const app = buildApp({ logger: false, stores: { s3Store } });
app.get('/__multipart-uploads', async () =>
  [...s3Store.multipartUploads.values()].map((upload) => ({ key: upload.key, uploadId: upload.uploadId, parts: upload.parts.size })),
);
await app.listen({ port: Number(port), host: '127.0.0.1' });
console.log(`listening ${port}`);
