import { execFile, execFileSync } from 'node:child_process';
import { copyFile, cp, mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BINARY, runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));

describe('packaging', () => {
  it('npm pack makes a tarball that installs globally and runs (dist/ included, built by prepack)', { timeout: 300_000 }, async () => {
    const folder = await temporaryFolder('okb-pack-');
    // Packed from a copy of the sources, so that prepack's build does not rewrite the dist/
    // that other tests are running at the same moment.
    const checkout = join(folder, 'checkout');
    await mkdir(checkout);
    for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'docs', 'LICENSE', 'bin', 'src']) {
      await cp(join(REPO, entry), join(checkout, entry), { recursive: true });
    }
    await symlink(join(REPO, 'node_modules'), join(checkout, 'node_modules'));
    await run('npm', ['pack', '--pack-destination', folder], { cwd: checkout });
    const [tarball] = (await readdir(folder)).filter((name) => name.endsWith('.tgz'));
    const { stdout: listing } = await run('tar', ['tzf', join(folder, tarball)]);
    expect(listing).toContain('package/dist/cli/main.js');
    expect(listing).toContain('package/bin/orkestra-backup');
    expect(listing).toContain('package/LICENSE');
    // The README links the pages of docs/: they go with it.
    expect(listing).toContain('package/docs/cli.md');
    expect(listing).not.toContain('package/test/');
    const prefix = join(folder, 'global');
    await run('npm', ['install', '-g', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, join(folder, tarball)], {
      cwd: folder,
    });
    const installed = join(prefix, 'bin', 'orkestra-backup');
    const { stdout: version } = await run(installed, ['--version']);
    expect(version.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const project = await makeProject();
    const { stdout: archive } = await run(installed, ['backup', '-c', 'secrets', '-y'], { cwd: project });
    expect(archive.trim()).toMatch(/\/backups\/orkestra-backup-local-\d{8}-\d{6}\.tar\.gz$/);
  });

  it('bin/orkestra-backup without dist/ says to build, not a stack trace', async () => {
    const folder = await temporaryFolder('okb-nodist-');
    await mkdir(join(folder, 'bin'));
    await copyFile(BINARY, join(folder, 'bin', 'orkestra-backup'));
    const result = await runCli(['--version'], { cwd: folder, binary: join(folder, 'bin', 'orkestra-backup') });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'orkestra-backup: the compiled tool (dist/) is missing. Run "npm ci && npm run build" in the checkout first.\n',
    );
  });

  // The machine's own Node (v20 on Debian 12 and on CI) is older than the tool needs; where it is
  // not, there is no old Node to try and the test says so by being skipped.
  const oldNode = systemNodeOlderThanSupported();
  it.skipIf(!oldNode)(`on an older Node (${oldNode ?? 'none on this machine'}) the binary refuses in one line, exit 2`, async () => {
    const { code, stdout, stderr } = await run(oldNode!, [BINARY, '--version']).then(
      (done) => ({ code: 0, ...done }),
      (failed: { code: number; stdout: string; stderr: string }) => failed,
    );
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^orkestra-backup: needs Node\.js 22\.15 or later \(24 LTS recommended\); this is Node \d+\.\d+\.\d+\. .*\n$/);
    expect(stderr.split('\n')).toHaveLength(2);
  });
});

function systemNodeOlderThanSupported(): string | undefined {
  try {
    const version = execFileSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).trim();
    const [major, minor] = version.slice(1).split('.').map(Number);
    return major < 22 || (major === 22 && minor < 15) ? '/usr/bin/node' : undefined;
  } catch {
    return undefined;
  }
}
