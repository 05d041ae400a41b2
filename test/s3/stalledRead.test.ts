import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

/** What the stub sends before going quiet on its first GET. */
const FIRST_BYTES = 200 * 1024;
const KEY = 'nightly/orkestra-backup-local-20260101-000000.tar.gz';

interface StallingServer {
  endpoint: string;
  /** The Range header of every GET, in order. */
  ranges: string[];
  stop(): void;
}

/**
 * A loopback S3 stand-in serving one object: HEAD answers its size; a GET from the first byte
 * sends the first 200 KB and then nothing, keeping the socket open. A resumed GET (a range from
 * a later byte) stalls at once, sends the rest of the object (`complete`), or, as a store or proxy
 * that ignores Range does, answers 200 with the whole object (`ignoreRange`).
 */
async function stallingServer(
  object: Buffer,
  declaredSize: number,
  onResume: 'stall' | 'complete' | 'ignoreRange',
): Promise<StallingServer> {
  const ranges: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = decodeURIComponent((request.url ?? '').split('?')[0]);
    if (path !== `/offsite/${KEY}`) {
      response.writeHead(404, { 'content-type': 'application/xml' });
      response.end(request.method === 'HEAD' ? undefined : '<Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>');
      return;
    }
    const headers = { etag: '"5eed"', 'last-modified': new Date(0).toUTCString(), 'content-type': 'application/gzip' };
    if (request.method === 'HEAD') {
      response.writeHead(200, { ...headers, 'content-length': String(declaredSize) });
      response.end();
      return;
    }
    const range = request.headers.range ?? '';
    ranges.push(range);
    const start = Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0);
    if (start > 0 && onResume === 'ignoreRange') {
      response.writeHead(200, { ...headers, 'content-length': String(object.length) });
      response.end(object);
      return;
    }
    response.writeHead(206, {
      ...headers,
      'content-length': String(declaredSize - start),
      'content-range': `bytes ${start}-${declaredSize - 1}/${declaredSize}`,
    });
    if (start === 0) response.write(object.subarray(0, FIRST_BYTES));
    else if (onResume === 'complete') response.end(object.subarray(start));
    else response.flushHeaders();
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    ranges,
    stop: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** A real archive of the secrets component, over 1 MB of incompressible key material so the stall falls inside it. */
async function secretsArchive(project: string): Promise<Buffer> {
  await writeFile(join(project, 'docker/keys/bulk.bin'), randomBytes(1024 * 1024), { mode: 0o600 });
  const file = join(project, 'secrets.tar.gz');
  const backup = await runCli(['backup', '-c', 'secrets', '-y', '-o', file], { cwd: project });
  expect(backup.code, backup.stderr).toBe(0);
  return readFile(file);
}

function envFor(server: StallingServer) {
  return {
    AWS_ACCESS_KEY_ID: 'a',
    AWS_SECRET_ACCESS_KEY: 'b',
    AWS_ENDPOINT_URL_S3: server.endpoint,
    ORKESTRA_S3_TIMEOUT_SECONDS: '2',
    ORKESTRA_S3_RETRY_PAUSES: '0.2',
  };
}

describe('an s3:// body that stops arriving', () => {
  it(
    'a body stalled after 200 KB of a 10 GB object is resumed with a Range GET, then verify ends with one line naming the object and the timeout',
    { timeout: 90_000 },
    async () => {
      const project = await makeProject();
      const archive = await secretsArchive(project);
      const server = await stallingServer(archive, 10 * 1024 ** 3, 'stall');
      try {
        const started = Date.now();
        const verify = startCli(['verify', `s3://offsite/${KEY}`], { cwd: project, env: envFor(server), timeoutMs: 80_000 });
        const result = await verify.result;
        // Four stalls of 2 s (the read and three resumes), with room for a loaded machine.
        expect(result.exitedAt - started).toBeLessThan(60_000);
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toMatch(
          new RegExp(
            `reading s3://offsite/${KEY.replace(/\./g, '\\.')} stopped at byte 204,800 of 10,737,418,240: ` +
              'no data arrived for 2 s \\(ORKESTRA_S3_TIMEOUT_SECONDS=2\\), and 3 reads resumed from that byte failed too\\.',
          ),
        );
        expect(result.stderr).not.toMatch(/\n\s+at /);
        expect(server.ranges[0]).toBe('bytes=0-');
        // Each reader of the object (the check and the planning read side by side) resumed three times from the byte reached.
        const resumed = server.ranges.filter((range) => range !== 'bytes=0-');
        expect(resumed.length).toBeGreaterThanOrEqual(3);
        expect(new Set(resumed)).toEqual(new Set(['bytes=204800-']));
      } finally {
        server.stop();
      }
    },
  );

  it(
    'a body stalled after 200 KB is completed by the resumed Range GET, and verify finds the archive sound',
    { timeout: 90_000 },
    async () => {
      const project = await makeProject();
      const archive = await secretsArchive(project);
      const server = await stallingServer(archive, archive.length, 'complete');
      try {
        const result = await runCli(['verify', `s3://offsite/${KEY}`], { cwd: project, env: envFor(server), timeoutMs: 80_000 });
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toContain('Result: sound.');
        expect(server.ranges).toContain('bytes=204800-');
      } finally {
        server.stop();
      }
    },
  );

  it(
    'a resumed GET answered 200 with the whole object (the store ignored Range) is refused in one line naming the object, never read twice',
    { timeout: 90_000 },
    async () => {
      const project = await makeProject();
      const archive = await secretsArchive(project);
      const server = await stallingServer(archive, archive.length, 'ignoreRange');
      try {
        const result = await runCli(['verify', `s3://offsite/${KEY}`], { cwd: project, env: envFor(server), timeoutMs: 80_000 });
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toMatch(
          new RegExp(
            `reading s3://offsite/${KEY.replace(/\./g, '\\.')}: the store ignored the range request to resume from byte 204,800 ` +
              'and answered the whole object \\(no Content-Range\\)',
          ),
        );
        expect(result.stderr).not.toMatch(/\n\s+at /);
        expect(result.stdout).not.toContain('Result: sound.');
        // Refused at the first wrong answer: each read of the archive (verify makes more than one,
        // how many overlap depends on the machine's load) asked to resume once, never again.
        const reads = server.ranges.filter((range) => !/^bytes=[1-9]/.test(range)).length;
        const resumes = server.ranges.filter((range) => range === 'bytes=204800-').length;
        expect(resumes).toBeGreaterThanOrEqual(1);
        expect(resumes).toBeLessThanOrEqual(reads);
      } finally {
        server.stop();
      }
    },
  );
});
