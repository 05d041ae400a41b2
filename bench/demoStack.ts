/**
 * The sample deployment of `npm run demo`: the containers of `npm run stack` under names of this
 * run, each holding data, and a project folder with secrets and a directory component of its own.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { s3Client, seed } from '../test/helpers/s3.js';
import { execText, startMongo, startRedis, startS3, type RunningContainer, type StackContext } from '../test/engine/stack.js';
import { copyIntoContainer, writeMongoArchive } from './dataset.js';

const ACCESS = 'orkestra-demo';
const SECRET = 'orkestra-demo-secret';
const MONGO_PASSWORD = 'demo-mongo-password';
const REDIS_PASSWORD = 'demo-redis-password';
const DATABASE = 'orkestra';
/** About 1,500 documents over three collections (users, events, module_configs). */
const MONGO_BYTES = 1_200_000;

export interface DemoStack {
  mongodb: string;
  redis: string;
  rustfs: string;
  s3Endpoint: string;
}

/** Starts the three containers, handing each to `track` as soon as it exists so that a failure later removes it. */
export async function startDemoStack(stack: StackContext, id: string, track: (container: RunningContainer) => void): Promise<DemoStack> {
  const names = { mongodb: `orkestra-demo-${id}-mongodb`, redis: `orkestra-demo-${id}-redis`, rustfs: `orkestra-demo-${id}-rustfs` };
  const mongo = await startMongo(stack, names.mongodb, { rootUser: 'admin', rootPassword: MONGO_PASSWORD });
  track(mongo);
  const redis = await startRedis(stack, names.redis, { password: REDIS_PASSWORD, passwordInContainerEnv: true });
  track(redis);
  const s3 = await startS3(stack, names.rustfs, { accessKey: ACCESS, secretKey: SECRET });
  track(s3);
  return { ...names, s3Endpoint: s3.endpoint };
}

/** The MongoDB database: a mongodump archive of three collections made here, loaded as the server's data. */
export async function seedMongo(stack: StackContext, demo: DemoStack, workFolder: string): Promise<string> {
  const archive = join(workFolder, 'demo.archive');
  await writeMongoArchive(archive, MONGO_BYTES, DATABASE);
  if (stack.images.mode === 'offline') {
    // The stand-in's server data is the archive at /stand-in/server.archive.
    await copyIntoContainer(stack, demo.mongodb, '/stand-in', 'server.archive', archive);
    return `database ${DATABASE}: users, events, module_configs (about 1,500 documents)`;
  }
  await copyIntoContainer(stack, demo.mongodb, '/tmp', 'demo.archive', archive);
  // The password goes through a --config file, never mongorestore's argv.
  const script = [
    `printf 'password: %s\\n' "$DEMO_MONGO_PASSWORD" > /tmp/demo.yaml`,
    'mongorestore --quiet --config /tmp/demo.yaml -u admin --authenticationDatabase admin --archive=/tmp/demo.archive; status=$?',
    'rm -f /tmp/demo.yaml /tmp/demo.archive',
    'exit $status',
  ].join('\n');
  const output = await execText(stack, demo.mongodb, ['sh', '-c', `${script}\necho "exit=$?"`], [`DEMO_MONGO_PASSWORD=${MONGO_PASSWORD}`]);
  if (!output.includes('exit=0')) throw new Error(`loading the sample MongoDB data failed: ${output.trim().split('\n').pop()}`);
  return `database ${DATABASE}: users, events, module_configs (about 1,500 documents)`;
}

/** One key of every type Redis 7 writes, a key with an expiry and a second database. */
const REDIS_COMMANDS = [
  'SET orkestra:motd "Welcome to the demo"',
  'SET orkestra:session:42 alice EX 86400',
  'RPUSH orkestra:queue:mail job-1 job-2 job-3',
  'SADD orkestra:tenants acme globex initech',
  'ZADD orkestra:leaderboard 10 alice 20 bob 30 carol',
  'HSET orkestra:flags newEditor on darkMode off',
  'XADD orkestra:audit * action login user alice',
  'XADD orkestra:audit * action backup user ops',
  'SELECT 1',
  'SET cache:homepage "<html>cached</html>"',
];

export async function seedRedis(stack: StackContext, demo: DemoStack): Promise<string> {
  const output = await execText(
    stack,
    demo.redis,
    ['sh', '-c', `redis-cli <<'COMMANDS'\n${REDIS_COMMANDS.join('\n')}\nCOMMANDS`],
    [`REDISCLI_AUTH=${REDIS_PASSWORD}`],
  );
  if (/ERR|NOAUTH|WRONGPASS/.test(output)) throw new Error(`loading the sample Redis keys failed: ${output.trim()}`);
  return 'db 0: a string, a string with an expiry, a list, a set, a sorted set, a hash, a stream; db 1: a string';
}

export async function seedObjects(demo: DemoStack): Promise<string> {
  const client = s3Client(demo.s3Endpoint, ACCESS, SECRET);
  try {
    await seed(
      client,
      ['orkestra-assets'],
      [
        {
          bucket: 'orkestra-assets',
          key: 'logo.svg',
          body: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>\n'),
          contentType: 'image/svg+xml',
        },
        {
          bucket: 'orkestra-assets',
          key: 'tenants/acme/report.csv',
          body: Buffer.from('month,users\n2026-11,42\n'),
          contentType: 'text/csv',
        },
        {
          bucket: 'orkestra-assets',
          key: 'tenants/globex/avatar.bin',
          body: Buffer.alloc(64 * 1024, 7),
          metadata: { owner: 'globex' },
        },
        { bucket: 'orkestra-assets', key: 'exports/empty.txt', body: Buffer.alloc(0), contentType: 'text/plain' },
      ],
    );
  } finally {
    client.destroy();
  }
  return 'bucket orkestra-assets: 4 objects';
}

/**
 * The project folder an operator would run the tool from: docker/.env (the settings and the
 * secrets), docker/keys/, and orkestra-backup.json declaring a directory component `uploads`.
 */
export async function writeDemoProject(project: string, demo: DemoStack): Promise<string[]> {
  await mkdir(join(project, 'docker/keys'), { recursive: true });
  const dotenv = [
    `MONGO_DATABASE=${DATABASE}`,
    `MONGO_ROOT_PASSWORD=${MONGO_PASSWORD}`,
    `REDIS_PASSWORD=${REDIS_PASSWORD}`,
    `RUSTFS_ENDPOINT=${demo.s3Endpoint}`,
    `RUSTFS_ACCESS_KEY=${ACCESS}`,
    `RUSTFS_SECRET_KEY=${SECRET}`,
    'OAUTH_TOKEN_ENCRYPTION_KEY=demo-oauth-key',
    'ORKESTRA_KMS_MASTER_KEY=demo-kms-key',
  ];
  await writeFile(join(project, 'docker/.env'), `${dotenv.join('\n')}\n`, { mode: 0o600 });
  await writeFile(join(project, 'docker/keys/jwt-private.pem'), 'demo private key\n', { mode: 0o600 });
  await writeFile(join(project, 'docker/keys/jwt-public.pem'), 'demo public key\n', { mode: 0o644 });
  const config = { components: { uploads: { kind: 'directory', path: 'data/uploads' } } };
  await writeFile(join(project, 'orkestra-backup.json'), `${JSON.stringify(config, null, 2)}\n`);
  await mkdir(join(project, 'data/uploads/invoices'), { recursive: true });
  await writeFile(join(project, 'data/uploads/invoices/2026-11.pdf'), 'a sample invoice\n');
  await writeFile(join(project, 'data/uploads/readme.txt'), 'files the fork keeps beside the database\n');
  return [
    'secrets: docker/.env and docker/keys/ (2 files)',
    'uploads (a directory component declared in orkestra-backup.json): data/uploads, 2 files',
  ];
}
