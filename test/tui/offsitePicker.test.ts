import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/tui/backend.js';
import { runCli } from '../helpers/cli.js';
import { offsiteEnv, startOffsiteServer, type OffsiteServer } from '../helpers/offsite.js';
import { ENV_TEXT, makeProject } from '../helpers/project.js';

describe('the restore picker lists the off-site folder named by ORKESTRA_OFFSITE (fauxqs)', () => {
  let server: OffsiteServer;
  beforeAll(async () => {
    server = await startOffsiteServer(['offsite']);
  });
  afterAll(() => server?.stop());

  it('local and off-site archives together, newest first, the off-site one by its s3:// URL; an unreachable store is a listed reason', async () => {
    const project = await makeProject();
    const settings = Object.entries({ ...offsiteEnv(server), ORKESTRA_OFFSITE: 's3://offsite/picker/' })
      .map(([key, value]) => `${key}=${value}`)
      .join('\n');
    await writeFile(join(project, 'docker/.env'), `${ENV_TEXT}${settings}\n`, { mode: 0o600 });
    const local = await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project });
    expect(local.code).toBe(0);
    const offsite = await runCli(['backup', '-c', 'secrets', '-y', '-o', 's3://offsite/picker/'], { cwd: project });
    expect(offsite.code).toBe(0);

    const backend = await createBackend({ projectDir: project, containers: {}, settings: {} });
    const listed = await backend.listArchives();
    expect(listed.map((archive) => archive.file).sort()).toEqual([local.stdout.trim(), offsite.stdout.trim()].sort());
    expect(listed.every((archive) => archive.problem === undefined)).toBe(true);

    const away = await createBackend({
      projectDir: project,
      containers: {},
      settings: { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' },
    });
    const withoutStore = await away.listArchives();
    expect(withoutStore[0].file).toBe(local.stdout.trim());
    expect(withoutStore[1]).toMatchObject({ file: 's3://offsite/picker/', problem: expect.stringContaining('cannot reach') as unknown });
  });
});
