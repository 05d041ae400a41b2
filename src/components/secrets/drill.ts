import { sha256Of as sha256 } from '../../integrity/sha256.js';
import { createReadStream } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import type { DrillCheck, DrillSupport } from '../../core/component.js';
import { keyDrift } from '../../core/keyFingerprints.js';
import { plural } from '../../base/format.js';
import { fileSelection, FileTally } from '../fileSelection.js';

/**
 * Secrets in a drill: every file restored into the drill's folder is byte-identical to the
 * archive's, and the encryption keys of the restored .env are the ones the backup fingerprinted
 * (MongoDB's encrypted fields are readable with them). A selective drill checks the selected
 * files, that no other file of the archive was written, and the keys when .env is selected.
 */
export const secretsDrill: DrillSupport = {
  checksSelection: true,

  async check({ project, source, manifest, selection }) {
    const picked = fileSelection(selection);
    const tally = picked && new FileTally(picked.patterns, 'secrets');
    const differing: string[] = [];
    const written: string[] = [];
    let others = 0;
    let files = 0;
    for await (const entry of source.entries()) {
      if (tally && !tally.selects(entry.path)) {
        entry.content.resume();
        if (await lstat(join(project.dockerDir, entry.path)).catch(() => undefined)) {
          others += 1;
          if (written.length < 3) written.push(`docker/${entry.path}`);
        }
        continue;
      }
      files += 1;
      const archived = await sha256(entry.content);
      const restored = await sha256(createReadStream(join(project.dockerDir, entry.path))).catch(() => 'missing');
      if (restored !== archived) differing.push(`docker/${entry.path}${restored === 'missing' ? ' (missing)' : ''}`);
    }
    const checks: DrillCheck[] = [
      {
        name: 'secret files byte-identical to the archive',
        ok: differing.length === 0,
        expected: plural(files, 'file'),
        measured:
          differing.length === 0
            ? `${files} identical`
            : `${files - differing.length} identical; differ: ${differing.slice(0, 3).join(', ')}`,
      },
    ];
    if (tally) {
      checks.push({
        name: 'no secret file outside the selection written',
        ok: others === 0,
        expected: 'none',
        measured: others === 0 ? 'none' : `${plural(others, 'file')}: ${written.join(', ')}`,
      });
    }
    if (manifest.keyFingerprints && (!tally || tally.selects('.env'))) {
      const text = await readFile(join(project.dockerDir, '.env'), 'utf8').catch(() => '');
      const env = parseDotenv(text);
      const drift = keyDrift(manifest, (key) => (env[key] === '' ? undefined : env[key]));
      const names = Object.keys(manifest.keyFingerprints.keys);
      checks.push({
        name: 'encryption keys of the restored .env match the backup',
        ok: drift.length === 0,
        expected: `${names.join(', ')} as fingerprinted at backup`,
        measured: drift.length === 0 ? 'all match' : drift.map(({ name, change }) => `${name} ${change}`).join(', '),
      });
    }
    return checks;
  },
};
