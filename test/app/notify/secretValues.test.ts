import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scrubbed, secretValues } from '../../../src/app/notify/secretValues.js';
import { temporaryFolder } from '../../helpers/tempFolders.js';

async function dockerDir(envText: string): Promise<string> {
  const project = await temporaryFolder('okb-notify-secrets-');
  await mkdir(join(project, 'docker'));
  await writeFile(join(project, 'docker/.env'), envText);
  return join(project, 'docker');
}

describe('secret values and their masking', () => {
  it('takes the values of docker/.env and the environment whose names say secret, not paths or plain settings', async () => {
    const dir = await dockerDir(
      'ORKESTRA_ENV=production\nMONGO_ROOT_PASSWORD=Pa55-from-dotenv\nOAUTH_TOKEN_ENCRYPTION_KEY=k3y-material-xyz\n' +
        'ORKESTRA_BACKUP_PASSPHRASE_FILE=/etc/orkestra/passphrase\nMONGO_DATABASE=orkestra\n',
    );
    const secrets = await secretValues(dir, { AWS_SECRET_ACCESS_KEY: 'aws-secret-from-env', HOME: '/home/ops' }, []);
    expect(secrets).toEqual(expect.arrayContaining(['Pa55-from-dotenv', 'k3y-material-xyz', 'aws-secret-from-env']));
    for (const plain of ['production', '/etc/orkestra/passphrase', 'orkestra', '/home/ops']) expect(secrets).not.toContain(plain);
  });

  it('takes the notification URLs whole and their paths (where their tokens are)', async () => {
    const secrets = await secretValues(undefined, {}, [new URL('https://hooks.example.com/services/T0/B0/tok3n?x=1')]);
    expect(secrets).toEqual(expect.arrayContaining(['https://hooks.example.com/services/T0/B0/tok3n?x=1', '/services/T0/B0/tok3n?x=1']));
  });

  it('masks every string of a message, nested, plain or URL-encoded, and a connection string password', async () => {
    const secrets = await secretValues(await dockerDir('REDIS_PASSWORD=s3cr"et/pw\n'), {}, []);
    const message = scrubbed(
      {
        text: 'redis refused s3cr"et/pw',
        nested: { lines: ['auth s3cr%22et%2Fpw failed', 'mongodb://admin:other-pass@db:27017 down'] },
        exitCode: 1,
        archive: null,
      },
      secrets,
    );
    expect(message).toEqual({
      text: 'redis refused ***',
      nested: { lines: ['auth *** failed', 'mongodb://admin:***@db:27017 down'] },
      exitCode: 1,
      archive: null,
    });
    expect(JSON.stringify(message)).not.toContain('s3cr');
  });
});
