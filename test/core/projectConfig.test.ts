import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProjectConfig, parseProjectConfig } from '../../src/app/projectConfig.js';
import { UsageError } from '../../src/base/errors.js';
import { DEFAULT_HEALTH_SETTINGS } from '../../src/model/health.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

describe('orkestra-backup.json', () => {
  it('turns each canary into the component that answers it, with a readable default name', () => {
    const { canaries } = parseProjectConfig(
      JSON.stringify({
        $schema: './orkestra-backup.schema.json',
        canaries: [
          { mongodb: { collection: 'users', filter: { role: 'admin' }, min: 1 } },
          { name: 'flags', redis: { key: 'orkestra:flags', db: 2, type: 'hash' } },
          { s3: { bucket: 'assets', key: 'logo.png', minSize: 10 } },
        ],
      }),
    );
    expect(canaries).toEqual([
      { label: 'mongodb users {"role":"admin"} ≥ 1', component: 'mongodb', collection: 'users', filter: { role: 'admin' }, min: 1 },
      { label: 'flags', component: 'redis', key: 'orkestra:flags', db: 2, type: 'hash' },
      { label: 's3 object assets/logo.png', component: 'rustfs', bucket: 'assets', key: 'logo.png', minSize: 10 },
    ]);
  });

  it.each([
    ['{"canaries": [{"redis": {"key": 7}}]}', /canaries\[0\]\.redis\.key: .*string/],
    [
      '{"canaries": [{"redis": {"key": "a"}, "s3": {"bucket": "b", "key": "c"}}]}',
      /canaries\[0\]: give exactly one of "mongodb", "redis" or "s3"/,
    ],
    ['{"canaries": [{"mongodb": {"collection": "u", "min": 1, "exact": 2}}]}', /canaries\[0\]\.mongodb: give "min" or "exact", not both/],
    ['{"canaries": [{"redis": {"key": "a", "tpye": "hash"}}]}', /canaries\[0\]\.redis: .*tpye/],
    ['{"canary": []}', /orkestra-backup\.json: the file: .*canary/],
    ['{"canaries": [', /orkestra-backup\.json is not valid JSON/],
  ])('refuses %s with the path of the bad field', (text, message) => {
    let error: unknown;
    try {
      parseProjectConfig(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
  });

  it('a project without the file has no canaries; one with it is read from the project root', async () => {
    const dir = await temporaryFolder('okb-config-');
    expect(await loadProjectConfig(dir)).toEqual({ canaries: [], components: {}, health: DEFAULT_HEALTH_SETTINGS });
    await writeFile(join(dir, 'orkestra-backup.json'), '{"canaries": [{"redis": {"key": "k"}}]}');
    expect((await loadProjectConfig(dir)).canaries).toHaveLength(1);
  });
});
