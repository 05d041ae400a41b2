/**
 * `npm run stack`: a local Orkestra-like stack on a Docker engine, for trying the tool by hand —
 * the same engine and images the tests use (test/engine/README.md): Redis, an S3 server and the
 * MongoDB stand-ins, named orkestra-redis, orkestra-rustfs and orkestra-mongodb. It prints the
 * next steps and keeps running until Ctrl-C, which removes it all — as does any failure on the
 * way up (a private engine is never left running).
 */
import { fileURLToPath } from 'node:url';
import { acquireEngine, clientFor, type EngineHandle } from '../test/engine/engine.js';
import { prepareImages } from '../test/engine/images.js';
import { startMongo, startRedis, startS3, type RunningContainer, type StackContext } from '../test/engine/stack.js';

const ACCESS = 'orkestra-demo';
const SECRET = 'orkestra-demo-secret';
const BINARY = fileURLToPath(new URL('../../bin/orkestra-backup', import.meta.url));

const containers: RunningContainer[] = [];
let engine: EngineHandle | undefined;

async function tearDown(): Promise<void> {
  await Promise.all(containers.splice(0).map((container) => container.remove()));
  await engine?.stop();
  engine = undefined;
}

async function main(): Promise<void> {
  const result = await acquireEngine();
  if ('unavailable' in result) throw new Error(`no Docker engine: ${result.unavailable}`);
  engine = result.engine;
  const stop = () => void tearDown().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const images = await prepareImages(clientFor(engine.dockerHost));
  const stack: StackContext = { docker: clientFor(engine.dockerHost), dockerHost: engine.dockerHost, images };
  containers.push(await startMongo(stack, 'orkestra-mongodb', { rootUser: 'admin', rootPassword: 'demo-mongo-password' }));
  containers.push(await startRedis(stack, 'orkestra-redis', { password: 'demo-redis-password', passwordInContainerEnv: true }));
  const s3 = await startS3(stack, 'orkestra-rustfs', { accessKey: ACCESS, secretKey: SECRET });
  containers.push(s3);
  const dotenv = [
    'MONGO_DATABASE=test',
    'MONGO_ROOT_PASSWORD=demo-mongo-password',
    'REDIS_PASSWORD=demo-redis-password',
    `RUSTFS_ENDPOINT=${s3.endpoint}`,
    `RUSTFS_ACCESS_KEY=${ACCESS}`,
    `RUSTFS_SECRET_KEY=${SECRET}`,
  ].join('\n');
  console.log(`The stack is up on ${engine.dockerHost}. In another shell:

  export DOCKER_HOST=${engine.dockerHost}
  mkdir -p /tmp/orkestra-demo/docker/keys && cd /tmp/orkestra-demo
  cat > docker/.env <<'ENV'
${dotenv}
ENV
  echo demo-key > docker/keys/jwt-private.pem

  ${BINARY} backup all --yes
  ${BINARY} verify backups/*.tar.gz
  ${BINARY} restore "$(ls -t backups/*.tar.gz | head -1)" --dry-run
  ${BINARY}            # the interactive interface

orkestra-mongodb runs STAND-INS for mongodump/mongorestore (no MongoDB image offline).
Ctrl-C here removes the containers${engine.privateEngine ? ' and stops the private engine' : ''}.`);
  // An unresolved promise does not keep Node running; a timer does, until Ctrl-C.
  setInterval(() => undefined, 1 << 30);
}

main().catch(async (error: unknown) => {
  console.error(`npm run stack: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  await tearDown().catch(() => undefined);
  process.exit(1);
});
