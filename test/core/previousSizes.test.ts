import { rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { previousSizes } from '../../src/core/backup/previousSizes.js';
import type { Session } from '../../src/core/session.js';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

/** previousSizes reads the project's environment and nothing else of the session. */
const sessionOf = (environment: string) => ({ project: { environment } }) as unknown as Session;

describe('the sizes of the previous backup, as the estimate of the next', () => {
  it("reads each component's bytes from the newest archive of the deployment in the destination folder, and nothing elsewhere", async () => {
    const project = await makeProject();
    const older = (await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project })).stdout.trim();
    // The older archive's name says an earlier second; the newer one holds one file less.
    await rename(older, join(project, 'backups', 'orkestra-backup-local-20200101-000000.tar.gz'));
    await unlink(join(project, 'docker/keys/jwt-public.pem'));
    expect((await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project })).code).toBe(0);
    const target = { kind: 'file', path: join(project, 'backups', 'next.tar.gz'), defaultName: true } as const;
    const sizes = await previousSizes(sessionOf('local'), target);
    const files = ['.env', 'keys/jwt-private.pem'].map((name) => stat(join(project, 'docker', name)));
    expect(sizes).toEqual(new Map([['secrets', (await Promise.all(files)).reduce((total, info) => total + info.size, 0)]]));
    // Another deployment's archives, another destination: no estimate.
    expect(await previousSizes(sessionOf('prod'), target)).toEqual(new Map());
    expect(await previousSizes(sessionOf('local'), { ...target, path: join(project, 'elsewhere', 'x.tar.gz') })).toEqual(new Map());
  });
});
