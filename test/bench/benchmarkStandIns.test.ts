import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { deserialize } from 'bson';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeMongoArchive } from '../../bench/dataset.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

/**
 * The MongoDB STAND-INS in benchmark mode (MONGO_STANDIN_DISCARD: the bench's gzip-compressed
 * fixture is the server's data) answer as a server holding the fixture: the shell lists its
 * collections, and a narrowed mongodump writes only the kept ones. Run on the host, no engine.
 */
const STANDINS = fileURLToPath(new URL('../engine/standins/', import.meta.url));
const NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));
const run = promisify(execFile);

let tools: string;
let state: string;

beforeAll(async () => {
  // CommonJS without an extension beside "type": "module": run from copies named .cjs.
  tools = await temporaryFolder('okb-bench-standins-');
  await copyFile(join(STANDINS, 'common.cjs'), join(tools, 'common.cjs'));
  for (const tool of ['mongodump', 'mongosh']) await copyFile(join(STANDINS, tool), join(tools, `${tool}.cjs`));
  state = await temporaryFolder('okb-bench-state-');
  await writeMongoArchive(join(state, 'bench.archive'), 6_000_000, 'bench', 600_000);
  // The non-benchmark stand-ins read the uncompressed fixture alone, to compare with; a third
  // state has only the gzip fixture, without the segment map, as the demo's server has.
  await mkdir(join(state, 'plain'));
  await copyFile(join(state, 'bench.archive'), join(state, 'plain', 'bench.archive'));
  await mkdir(join(state, 'gzip-only'));
  await copyFile(join(state, 'bench.archive.gz'), join(state, 'gzip-only', 'bench.archive.gz'));
}, 60_000);

async function standIn(tool: string, args: string[], benchmark = true, folder = state): Promise<Buffer> {
  const env = {
    ...process.env,
    NODE_PATH: NODE_MODULES,
    MONGO_STANDIN_STATE: benchmark ? folder : join(state, 'plain'),
    MONGO_STANDIN_FIXTURE: 'bench.archive',
    MONGO_STANDIN_DISCARD: benchmark ? '1' : '',
  };
  const { stdout } = await run(process.execPath, [join(tools, `${tool}.cjs`), ...args], {
    env,
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** The metadata namespaces and, per namespace, the documents and EOF CRC of an uncompressed archive. */
function walk(bytes: Buffer) {
  let offset = 4;
  const next = () => {
    const length = bytes.readInt32LE(offset);
    offset += length === -1 ? 4 : length;
    return length === -1 ? null : bytes.subarray(offset - length, offset);
  };
  expect(bytes.readUInt32LE(0)).toBe(0x8199e26d);
  next(); // the header
  const metadata: string[] = [];
  for (let document = next(); document; document = next()) metadata.push(String(deserialize(document).collection));
  const documents = new Map<string, Buffer[]>();
  const crcs = new Map<string, string>();
  while (offset < bytes.length) {
    const { collection, EOF, CRC } = deserialize(next()!) as { collection: string; EOF: boolean; CRC: { toString(): string } };
    if (EOF) {
      crcs.set(collection, CRC.toString());
      expect(next()).toBeNull();
      continue;
    }
    const list = documents.get(collection) ?? [];
    for (let document = next(); document; document = next()) list.push(document);
    documents.set(collection, list);
  }
  return { metadata, documents, crcs };
}

describe('the MongoDB STAND-INS in benchmark mode', () => {
  it("mongosh lists the fixture's collections (read from its gzip prelude), and no others for another database [STAND-IN]", async () => {
    const listed = await standIn('mongosh', ['--quiet', '--eval', "JSON.stringify(db.getSiblingDB('bench').getCollectionNames())"]);
    expect(JSON.parse(listed.toString())).toEqual(['audit', 'events', 'module_configs', 'users']);
    const other = await standIn('mongosh', ['--quiet', '--eval', "JSON.stringify(db.getSiblingDB('other').getCollectionNames())"]);
    expect(JSON.parse(other.toString())).toEqual([]);
  });

  it.each([
    ['read through the segment map', () => state],
    ['walked from the gzip fixture, without a map', () => join(state, 'gzip-only')],
  ])(
    'mongodump --excludeCollection writes only the kept collection: its metadata, documents and EOF CRC, the same documents as from the whole fixture (%s) [STAND-IN]',
    async (_how, folder) => {
      const excluded = ['users', 'events', 'module_configs'].map((name) => `--excludeCollection=${name}`);
      const dump = walk(gunzipSync(await standIn('mongodump', ['--db=bench', '--archive', '--gzip', ...excluded], true, folder())));
      const whole = walk(await readFile(join(state, 'plain', 'bench.archive')));
      // The dataset's audit holds the bytes asked for, give or take one batch of 500 documents (about 550 KB).
      const auditBytes = Buffer.concat(whole.documents.get('audit')!).length;
      expect(auditBytes).toBeGreaterThanOrEqual(600_000);
      expect(auditBytes).toBeLessThan(600_000 + 600_000);
      expect(dump.metadata).toEqual(['audit']);
      expect([...dump.documents.keys()]).toEqual(['audit']);
      expect([...dump.crcs.keys()]).toEqual(['audit']);
      expect(dump.crcs.get('audit')).toBe(whole.crcs.get('audit'));
      expect(Buffer.concat(dump.documents.get('audit')!).equals(Buffer.concat(whole.documents.get('audit')!))).toBe(true);
      // The same documents as the stand-in's dump outside benchmark mode, from the uncompressed fixture.
      const plain = walk(await standIn('mongodump', ['--db=bench', '--archive', ...excluded], false));
      expect(Buffer.concat(dump.documents.get('audit')!).equals(Buffer.concat(plain.documents.get('audit')!))).toBe(true);
    },
  );

  it('mongodump --collection writes that collection alone, and without a narrowing flag the fixture as it is, plain or gzip [STAND-IN]', async () => {
    const users = walk(await standIn('mongodump', ['--db=bench', '--archive', '--collection=users']));
    expect(users.metadata).toEqual(['users']);
    expect([...users.documents.keys()]).toEqual(['users']);
    expect(users.documents.get('users')!.length).toBeGreaterThan(0);
    const all = await standIn('mongodump', ['--db=bench', '--archive', '--gzip']);
    expect(all.equals(await readFile(join(state, 'bench.archive.gz')))).toBe(true);
    const plain = await standIn('mongodump', ['--db=bench', '--archive']);
    expect(plain.equals(await readFile(join(state, 'bench.archive')))).toBe(true);
  });
});
