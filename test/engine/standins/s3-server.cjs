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
// RUSTFS_ADDRESS ("[host]:port") wins, as RustFS reads it: a drill's copy listens on :9000 of its own network.
const rustfsAddress = /^(.*):(\d+)$/.exec(process.env.RUSTFS_ADDRESS || '');
const port = Number(rustfsAddress ? rustfsAddress[2] : process.env.S3_PORT || 9000);
const server = new S3rver({
  address: (rustfsAddress && rustfsAddress[1]) || (rustfsAddress ? '0.0.0.0' : process.env.S3_ADDRESS || '127.0.0.1'),
  port,
  directory: '/data',
  silent: true,
  vhostBuckets: false,
});
server.run().then(
  () => console.log(`s3rver listening on ${port}`),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close().finally(() => process.exit(0)));
