import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, inject } from 'vitest';
import { freePort } from '../engine/stack.js';

const node22 = inject('node22');
const SERVER = fileURLToPath(new URL('../engine/standins/offsite-s3.mjs', import.meta.url));

/** Tests that need the off-site server (fauxqs on Node 22); skipped with the reason printed once by globalSetup. */
export const describeOffsite = describe.skipIf('unavailable' in node22);

export interface OffsiteServer {
  readonly endpoint: string;
  /** Multipart uploads the server still holds open (started, neither completed nor aborted). */
  openUploads(): Promise<{ key: string; uploadId: string; parts: number }[]>;
  stop(): Promise<void>;
}

/** fauxqs with the given buckets on a free loopback port; it checks no signatures, so any keys do. */
export async function startOffsiteServer(buckets: string[]): Promise<OffsiteServer> {
  if ('unavailable' in node22) throw new Error(`no Node 22: ${node22.unavailable}`);
  const port = await freePort();
  const child = spawn(node22.node, ['--no-warnings', SERVER, String(port), ...buckets], { stdio: ['ignore', 'pipe', 'pipe'] });
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
