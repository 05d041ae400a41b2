import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoStackTrace, runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

/** No engine is needed: a Docker call would fail loudly. */
const ENV = { DOCKER_HOST: 'unix:///nonexistent.sock' };

describe('verify of an archive cut short or extended', () => {
  let project: string;
  let whole: Buffer;

  beforeAll(async () => {
    project = await makeProject();
    await writeFile(
      join(project, 'orkestra-backup.json'),
      JSON.stringify({ components: { uploads: { kind: 'directory', path: 'uploads' } } }),
    );
    await mkdir(join(project, 'uploads'), { recursive: true });
    // Random bytes do not compress: a cut at half the archive falls among the files.
    for (let index = 0; index < 150; index += 1) await writeFile(join(project, `uploads/${index}.bin`), randomBytes(16_384));
    const backup = await runCli(['backup', '-c', 'secrets,uploads', '-y'], { cwd: project, env: ENV });
    expect(backup.code, backup.stderr).toBe(0);
    const [name] = (await readdir(join(project, 'backups'))).filter((file) => file.endsWith('.tar.gz'));
    whole = readFileSync(join(project, 'backups', name));
  });

  it('says first that its size does not match its manifest, then counts the files after the break in one line, none called missing', async () => {
    const cases = [
      { name: 'cut.tar.gz', bytes: whole.subarray(0, Math.floor(whole.length / 2)) },
      { name: 'extended.tar.gz', bytes: Buffer.concat([whole, randomBytes(5_000)]) },
    ];
    for (const { name, bytes } of cases) {
      const path = join(project, name);
      await writeFile(path, bytes);
      const result = await runCli(['verify', path], { cwd: project, env: ENV });
      expect(result.code, `${name}: ${result.stderr}`).toBe(1);
      const problems = result.stdout.slice(result.stdout.indexOf('Result:')).split('\n').slice(1).filter(Boolean);
      expect(problems[0]).toBe(`  - the archive's size (${bytes.length} bytes) does not match its manifest: cut short or extended`);
      expect(problems).toContainEqual(
        expect.stringMatching(/^ {2}- \d+ files? of uploads listed in the manifest could not be checked: the archive breaks before them$/),
      );
      expect(result.stdout).not.toContain('missing from the archive');
      expect(problems.length).toBeLessThan(6);
      expectNoStackTrace(result.stderr);
    }
  });
});
