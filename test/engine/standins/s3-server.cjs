// Runs s3rver — a working S3 protocol server on the filesystem (not RustFS) — with the access
// key and secret from the container's environment, as RustFS and MinIO take them.
const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');

const accessKey = process.env.RUSTFS_ACCESS_KEY || process.env.MINIO_ROOT_USER;
const secretKey = process.env.RUSTFS_SECRET_KEY || process.env.MINIO_ROOT_PASSWORD;
if (accessKey && secretKey) {
  AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
  AWSAccount.DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey);
}
const server = new S3rver({
  address: process.env.S3_ADDRESS || '127.0.0.1',
  port: Number(process.env.S3_PORT || 9000),
  directory: '/data',
  silent: true,
  vhostBuckets: false,
});
server.run().then(
  () => console.log(`s3rver listening on ${process.env.S3_PORT || 9000}`),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close().finally(() => process.exit(0)));
