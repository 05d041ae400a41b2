import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectNoStackTrace, runCli, startCli } from '../helpers/cli.js';
import { describeEngine, engineEnv, engineStack } from '../helpers/engine.js';
import { makeProject, snapshotTree } from '../helpers/project.js';
import { temporaryFolder } from '../helpers/tempFolders.js';
import { execText, type StackContext } from '../engine/stack.js';

/** restore --files / --into of a `volume` component, through the binary against the real engine. */
let stack: StackContext;
let volume: string;
let container: string;
const MOUNT = '/srv/graph';
const NODES = 'nested/ünïcødé ✓/nodes.bin';

/** Each entry under the mount: mode, owner, size, mtime and content hash, by path. */
async function snapshot(): Promise<Record<string, string>> {
  const script = `cd ${MOUNT} && find . -mindepth 1 | sort | while read -r p; do printf '%s\\t%s %s\\n' "$p" "$(stat -c '%a %u:%g %s %Y' "$p")" "$([ -f "$p" ] && md5sum < "$p")"; done; true`;
  const text = await execText(stack, container, ['/bin/sh', '-c', script]);
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('\t'))
      .map((line) => line.split('\t') as [string, string]),
  );
}

const sh = (script: string) => execText(stack, container, ['/bin/sh', '-c', script]);

beforeAll(async () => {
  stack = engineStack();
  const suffix = randomBytes(3).toString('hex');
  volume = `okb-pick-${suffix}`;
  container = `okb-pick-app-${suffix}`;
  await stack.docker.createVolume({ Name: volume });
  const created = await stack.docker.createContainer({
    name: container,
    Image: stack.images.redis,
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['while :; do sleep 3600; done'],
    HostConfig: { Init: true, NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: volume, Target: MOUNT }] },
  });
  await created.start();
});
afterAll(async () => {
  await stack?.docker
    .getContainer(container)
    .remove({ force: true })
    .catch(() => undefined);
  await stack?.docker
    .getVolume(volume)
    .remove()
    .catch(() => undefined);
});

/** Fills the volume, backs it up, then edits it: .hidden and run.sh changed, nodes.bin and its folder gone, extra.txt added. */
async function editedVolume(): Promise<{ project: string; archive: string; original: Record<string, string> }> {
  await sh(
    [
      `rm -rf ${MOUNT}/* ${MOUNT}/.hidden`,
      `mkdir -p '${MOUNT}/nested/ünïcødé ✓'`,
      `printf 'graph data\\n' > '${MOUNT}/${NODES}' && chown 1000:1000 '${MOUNT}/${NODES}' && chmod 640 '${MOUNT}/${NODES}'`,
      `printf 'secret' > ${MOUNT}/.hidden && chmod 600 ${MOUNT}/.hidden`,
      `printf '#!/bin/sh\\n' > ${MOUNT}/run.sh && chmod 750 ${MOUNT}/run.sh`,
      `touch -t 202603040506.07 ${MOUNT}/run.sh '${MOUNT}/${NODES}' ${MOUNT}/.hidden`,
    ].join(' && '),
  );
  const original = await snapshot();
  const project = await makeProject();
  await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify({ components: { graph: { kind: 'volume', volume } } }));
  const backup = await runCli(['backup', '-c', 'graph', '-y'], { cwd: project, env: engineEnv(), timeoutMs: 240_000 });
  expect(backup.code).toBe(0);
  await sh(
    `printf changed > ${MOUNT}/.hidden && printf 'echo changed\\n' >> ${MOUNT}/run.sh && rm -r ${MOUNT}/nested && printf x > ${MOUNT}/extra.txt`,
  );
  return { project, archive: backup.stdout.trim(), original };
}

const run = (project: string, args: string[]) => runCli(args, { cwd: project, env: engineEnv(), timeoutMs: 240_000 });

describeEngine('restore --files / --into of a volume component (real engine)', () => {
  it('--files restores only the selected files in the container (owners, modes, mtimes), every other entry identical, the folder kept aside, the container running', async () => {
    const { project, archive, original } = await editedVolume();
    const before = await snapshot();
    const dryRun = await run(project, ['restore', archive, '--files', '.hidden', '--files', 'nested', '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('--files .hidden: 1 file in the archive: 0 to add, 1 to overwrite (different), 0 identical');
    expect(dryRun.stdout).toContain('--files nested: 1 file in the archive: 1 to add, 0 to overwrite (different), 0 identical');
    expect(await snapshot()).toEqual(before);

    const restore = await run(project, ['restore', archive, '--files', '.hidden', '--files', 'nested', '-y']);
    expect(restore.stderr).not.toContain('FAILED');
    expect(restore.code).toBe(0);
    const after = await snapshot();
    for (const path of ['./.hidden', `./${NODES}`, './nested', './nested/ünïcødé ✓']) expect(after[path], path).toBe(original[path]);
    for (const path of ['./run.sh', './extra.txt']) expect(after[path], path).toBe(before[path]);
    expect(Object.keys(after).sort()).toEqual(
      [...new Set([...Object.keys(before), './nested', './nested/ünïcødé ✓', `./${NODES}`])].sort(),
    );
    expect((await stack.docker.getContainer(container).inspect()).State.Running).toBe(true);
    const [aside] = (await readdir(join(project, 'docker'))).filter((name) => name.startsWith('.pre-restore-'));
    expect(await readdir(join(project, 'docker', aside, 'graph'))).toEqual([`${container}.tar`]);

    // Again: every selected file is identical now, so the container is not even stopped.
    const started = (await stack.docker.getContainer(container).inspect()).State.StartedAt;
    const again = await run(project, ['restore', archive, '--files', '.hidden', '--files', 'nested', '-y']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('2 files of /srv/graph in');
    expect(again.stdout).toContain('already identical; nothing copied');
    expect((await stack.docker.getContainer(container).inspect()).State.StartedAt).toBe(started);
    expect(await snapshot()).toEqual(after);
  });

  it('--into writes the selection into a host folder; the volume and its container are not touched', async () => {
    const { project, archive } = await editedVolume();
    const before = await snapshot();
    const started = (await stack.docker.getContainer(container).inspect()).State.StartedAt;
    const into = await temporaryFolder('orkestra-into-');
    const restore = await run(project, ['restore', archive, '--files', '**/*.bin', '--files', 'run.sh', '--into', into, '-y']);
    expect(restore.code).toBe(0);
    expect(await readFile(join(into, NODES), 'utf8')).toBe('graph data\n');
    expect((await stat(join(into, 'run.sh'))).mode & 0o777).toBe(0o750);
    expect(Object.keys(await snapshotTree(into)).sort()).toEqual(['nested/', 'nested/ünïcødé ✓/', NODES, 'run.sh'].sort());
    expect(await snapshot()).toEqual(before);
    expect((await stack.docker.getContainer(container).inspect()).State.StartedAt).toBe(started);
    expect((await readdir(join(project, 'docker'))).filter((name) => name.startsWith('.pre-restore-'))).toEqual([]);

    const none = await run(project, ['restore', archive, '--files', 'nope.txt', '-y']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--files nope.txt matches no file of graph in');
  });

  it('interrupted once the container is stopped for the copy: the folder is as it was (what was copied in is taken back) and the container runs again', async () => {
    await sh(
      `rm -rf ${MOUNT}/* ${MOUNT}/.hidden && printf 'secret' > ${MOUNT}/.hidden && head -c 200000000 /dev/urandom > ${MOUNT}/big.bin`,
    );
    const project = await makeProject();
    await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify({ components: { graph: { kind: 'volume', volume } } }));
    const backup = await runCli(['backup', '-c', 'graph', '-y', '--compression', 'gzip:1'], {
      cwd: project,
      env: engineEnv(),
      timeoutMs: 240_000,
    });
    expect(backup.code).toBe(0);
    await sh(`printf changed > ${MOUNT}/.hidden && rm ${MOUNT}/big.bin && printf x > ${MOUNT}/extra.txt`);
    const before = await snapshot();
    const running = startCli(['restore', backup.stdout.trim(), '--files', '.hidden', '--files', 'big.bin', '-y'], {
      cwd: project,
      env: engineEnv(),
      timeoutMs: 240_000,
    });
    // The interrupt lands while the folder is kept aside or, far more likely, while the 200 MB selection is copied in.
    await running.waitForStderr(new RegExp(`stopping ${container}`), 120_000);
    running.signal('SIGINT');
    const result = await running.result;
    expect(result.code, result.stderr).not.toBe(0);
    expectNoStackTrace(result.stderr);
    expect(result.stderr).toMatch(
      /the previous content was put back, so the folder holds what it held before|before its first change; nothing was changed/,
    );
    expect(result.stderr).toContain(`/graph/${container}.tar`);
    expect(await snapshot()).toEqual(before);
    expect((await stack.docker.getContainer(container).inspect()).State.Running).toBe(true);
  });
});
