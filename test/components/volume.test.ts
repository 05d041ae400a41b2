import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describeEngine, engineEnv, engineStack } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { execText, type StackContext } from '../engine/stack.js';

/**
 * `volume` components declared in orkestra-backup.json, through the binary against the real
 * engine: a named volume mounted by a running container (the test Redis image, for its shell).
 */
let stack: StackContext;
let volume: string;
let container: string;
const MOUNT = '/srv/graph';

/**
 * Every entry under the mount with its mode, owner, size, mtime and content hash: equal only when
 * the folder is. The mount folder's own mtime is left out: the engine's copy-in does not set it.
 */
async function snapshot(): Promise<string> {
  const script = `cd ${MOUNT} && stat -c '%n %a %u:%g' . && find . -mindepth 1 | sort | while read -r p; do stat -c '%n %a %u:%g %s %Y' "$p"; [ -f "$p" ] && md5sum "$p"; done; true`;
  return execText(stack, container, ['/bin/sh', '-c', script]);
}

beforeAll(async () => {
  stack = engineStack();
  const suffix = randomBytes(3).toString('hex');
  volume = `okb-graph-${suffix}`;
  container = `okb-graph-app-${suffix}`;
  await stack.docker.createVolume({ Name: volume });
  const created = await stack.docker.createContainer({
    name: container,
    Image: stack.images.redis,
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['while :; do sleep 3600; done'],
    HostConfig: { Init: true, NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: volume, Target: MOUNT }] },
  });
  await created.start();
  const fill = [
    `mkdir -p '${MOUNT}/nested/ünïcødé ✓' ${MOUNT}/empty`,
    `printf 'graph data\\n' > '${MOUNT}/nested/ünïcødé ✓/nodes.bin'`,
    `printf 'secret' > ${MOUNT}/.hidden && chmod 600 ${MOUNT}/.hidden`,
    `printf '#!/bin/sh\\n' > ${MOUNT}/run.sh && chmod 750 ${MOUNT}/run.sh`,
    `chown 1000:1000 ${MOUNT}/run.sh`,
    `touch -t 202603040506.07 ${MOUNT}/run.sh '${MOUNT}/nested/ünïcødé ✓/nodes.bin'`,
  ].join(' && ');
  await execText(stack, container, ['/bin/sh', '-c', fill]);
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

async function projectWith(components: Record<string, unknown>): Promise<string> {
  const project = await makeProject();
  await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify({ components }));
  return project;
}

const run = (project: string, args: string[]) => runCli(args, { cwd: project, env: engineEnv(), timeoutMs: 240_000 });

describeEngine('volume components from orkestra-backup.json (real engine)', () => {
  it("a named volume round-trips exactly — nested and unicode names, hidden files, modes, owners, mtimes (not the mount folder's own) — extra files removed, the previous content kept aside, the container running again", async () => {
    const project = await projectWith({ graph: { kind: 'volume', volume } });
    const before = await snapshot();
    const backup = await run(project, ['backup', '-c', 'graph', '-y']);
    expect(backup.stderr).not.toContain('FAILED');
    expect(backup.code).toBe(0);
    expect(backup.stderr).toContain(`volume ${volume}, mounted at ${MOUNT} by ${container}`);
    const archive = backup.stdout.trim();
    expect((await run(project, ['verify', archive])).code).toBe(0);

    await execText(stack, container, [
      '/bin/sh',
      '-c',
      `rm ${MOUNT}/run.sh && printf changed > ${MOUNT}/.hidden && printf x > ${MOUNT}/extra.txt`,
    ]);
    expect(await snapshot()).not.toBe(before);
    const dryRun = await run(project, ['restore', archive, '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(`empty ${MOUNT} (a one-off container`);
    const restore = await run(project, ['restore', archive, '-y']);
    expect(restore.stderr).not.toContain('FAILED');
    expect(restore.code).toBe(0);
    expect(await snapshot()).toBe(before);
    expect((await stack.docker.getContainer(container).inspect()).State.Running).toBe(true);
    const [aside] = (await readdir(join(project, 'docker'))).filter((name) => name.startsWith('.pre-restore-'));
    expect(await readdir(join(project, 'docker', aside, 'graph'))).toEqual([`${container}.tar`]);
    const helpers = await stack.docker.listContainers({ all: true, filters: JSON.stringify({ label: ['orkestra-backup.helper'] }) });
    expect(helpers).toEqual([]);
  });

  it('container and path name the folder directly; a volume that does not exist is skipped by all and an error when named', async () => {
    const direct = await projectWith({ graph: { kind: 'volume', container, path: `${MOUNT}/nested` } });
    const backup = await run(direct, ['backup', '-c', 'graph', '-y']);
    expect(backup.code).toBe(0);
    const inspect = await run(direct, ['inspect', backup.stdout.trim()]);
    expect(inspect.stdout, inspect.stdout).toMatch(new RegExp(`${container}:${MOUNT}/nested\\s+3 entries`));

    const missing = await projectWith({ graph: { kind: 'volume', volume: 'okb-no-such-volume' } });
    const all = await run(missing, ['backup', 'all', '-y']);
    expect(all.code).toBe(0);
    expect(all.stderr).toMatch(/graph.*no Docker volume named okb-no-such-volume/);
    const named = await run(missing, ['backup', '-c', 'graph', '-y']);
    expect(named.code).toBe(1);
    expect(named.stderr).toMatch(/no Docker volume named okb-no-such-volume/);
  });

  it("a drill copies the container that mounts the volume, restores into the copy's own volume and finds it identical; the live volume is untouched", async () => {
    const project = await projectWith({ graph: { kind: 'volume', volume } });
    const backup = await run(project, ['backup', '-c', 'graph', '-y']);
    expect(backup.code).toBe(0);
    const before = await snapshot();
    const started = (await stack.docker.getContainer(container).inspect()).State.StartedAt;
    const drill = await run(project, ['drill', backup.stdout.trim(), '--json']);
    expect(drill.stderr).not.toMatch(/FAILED/);
    expect(drill.code).toBe(0);
    const report = JSON.parse(drill.stdout);
    expect(report.notDrilled).toEqual([]);
    expect(report.components).toEqual([
      expect.objectContaining({
        name: 'graph',
        restored: expect.stringContaining(`of orkestra-drill-${report.id}-graph`),
        checks: [expect.objectContaining({ ok: true, measured: expect.stringMatching(/^all \d+ identical$/) })],
      }),
    ]);
    expect(await snapshot()).toBe(before);
    expect((await stack.docker.getContainer(container).inspect()).State.StartedAt).toBe(started);
    const labelled = await stack.docker.listVolumes({ filters: JSON.stringify({ label: [`orkestra-backup.drill.project=${project}`] }) });
    expect(labelled.Volumes ?? []).toEqual([]);
  });

  it("a selective drill (-c graph --files 'nested/**') restores only that file into the copy's volume and checks it; run.sh and .hidden are not written there", async () => {
    const project = await projectWith({ graph: { kind: 'volume', volume } });
    const backup = await run(project, ['backup', '-c', 'graph', '-y']);
    expect(backup.code).toBe(0);
    const drill = await run(project, ['drill', backup.stdout.trim(), '-c', 'graph', '--files', 'nested/**', '--json']);
    expect(drill.stderr).not.toMatch(/FAILED/);
    expect(drill.code).toBe(0);
    const report = JSON.parse(drill.stdout);
    expect(report.components).toEqual([
      expect.objectContaining({
        name: 'graph',
        checks: [
          expect.objectContaining({ ok: true, expected: '1 file', measured: '1 identical' }),
          expect.objectContaining({ name: 'no file outside the selection written', ok: true, measured: 'none' }),
        ],
      }),
    ]);
  });
});
