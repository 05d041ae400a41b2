import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../engine/stack.js';

const SERVER = fileURLToPath(new URL('../engine/standins/offsite-s3.mjs', import.meta.url));

export interface OffsiteServer {
  readonly endpoint: string;
  /** Multipart uploads the server still holds open (started, neither completed nor aborted). */
  openUploads(): Promise<{ key: string; uploadId: string; parts: number }[]>;
  stop(): Promise<void>;
}

/** fauxqs with the given buckets on a free loopback port; it checks no signatures, so any keys do. */
export async function startOffsiteServer(buckets: string[]): Promise<OffsiteServer> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--no-warnings', SERVER, String(port), ...buckets], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`listening ${port}`)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`the off-site server exited (${code}): ${output}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    async openUploads() {
      const response = await fetch(`${endpoint}/__multipart-uploads`);
      return (await response.json()) as { key: string; uploadId: string; parts: number }[];
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill();
      await exited;
    },
  };
}

/** Environment for the binary to use the off-site server: AWS settings only (the RustFS keys are not used for it). */
export function offsiteEnv(server: OffsiteServer): NodeJS.ProcessEnv {
  return {
    AWS_ACCESS_KEY_ID: 'offsite-access',
    AWS_SECRET_ACCESS_KEY: 'offsite-secret-never-printed',
    AWS_ENDPOINT_URL_S3: server.endpoint,
    AWS_REGION: 'us-east-1',
    // These tests back up the secrets component unencrypted to the fake bucket; the refusal itself is tested on its own.
    ORKESTRA_ALLOW_PLAINTEXT_SECRETS: 'yes',
  };
}
