/**
 * `npm run stack`: a local Orkestra-like stack on a Docker engine, for trying the tool by hand —
 * the same engine and images the tests use (../shared/ENGINE.md): Redis, an S3 server and the
 * MongoDB stand-ins, named orkestra-redis, orkestra-rustfs and orkestra-mongodb. It prints the
 * variables to export and keeps running until Ctrl-C, which removes it all.
 */
import { acquireEngine, clientFor } from '../test/engine/engine.js';
import { prepareImages } from '../test/engine/images.js';
import { startMongo, startRedis, startS3, type RunningContainer, type StackContext } from '../test/engine/stack.js';

const ACCESS = 'orkestra-demo';
const SECRET = 'orkestra-demo-secret';

async function main(): Promise<void> {
  const result = await acquireEngine();
  if ('unavailable' in result) throw new Error(`no Docker engine: ${result.unavailable}`);
  const { engine } = result;
  const containers: RunningContainer[] = [];
  const stop = async () => {
    await Promise.all(containers.map((container) => container.remove()));
    await engine.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  const images = await prepareImages(clientFor(engine.dockerHost));
  const stack: StackContext = { docker: clientFor(engine.dockerHost), dockerHost: engine.dockerHost, images };
  containers.push(await startMongo(stack, 'orkestra-mongodb', { rootUser: 'admin', rootPassword: 'demo-mongo-password' }));
  containers.push(await startRedis(stack, 'orkestra-redis', { password: 'demo-redis-password', passwordInContainerEnv: true }));
  const s3 = await startS3(stack, 'orkestra-rustfs', { accessKey: ACCESS, secretKey: SECRET });
  containers.push(s3);
  console.log(`export DOCKER_HOST=${engine.dockerHost}`);
  console.log('# docker/.env of your test project:');
  console.log(`MONGO_DATABASE=test\nMONGO_ROOT_PASSWORD=demo-mongo-password\nREDIS_PASSWORD=demo-redis-password`);
  console.log(`RUSTFS_ENDPOINT=${s3.endpoint}\nRUSTFS_ACCESS_KEY=${ACCESS}\nRUSTFS_SECRET_KEY=${SECRET}`);
  console.log('# mongodb runs STAND-INS for mongodump/mongorestore (no MongoDB image offline). Ctrl-C removes the stack.');
  // An unresolved promise does not keep Node running; a timer does, until Ctrl-C.
  setInterval(() => undefined, 1 << 30);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
