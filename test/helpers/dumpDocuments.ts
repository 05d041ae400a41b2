import { deserialize } from 'bson';

/**
 * The data documents of a mongodump archive's body, per namespace in order, and each namespace's
 * EOF header count: what a restore gets from it, whatever its segments look like. `bytes` starts
 * at the first segment header (after the prelude).
 */
export function documentsByNamespace(bytes: Buffer): Map<string, { documents: string[]; eofs: number }> {
  const found = new Map<string, { documents: string[]; eofs: number }>();
  let offset = 0;
  while (offset < bytes.length) {
    const header = deserialize(bytes.subarray(offset, offset + bytes.readInt32LE(offset)));
    offset += bytes.readInt32LE(offset);
    const name = `${header.db}.${header.collection}`;
    const entry = found.get(name) ?? found.set(name, { documents: [], eofs: 0 }).get(name)!;
    if (header.EOF === true) entry.eofs += 1;
    while (bytes.readInt32LE(offset) !== -1) {
      const length = bytes.readInt32LE(offset);
      entry.documents.push(bytes.subarray(offset, offset + length).toString('hex'));
      offset += length;
    }
    offset += 4;
  }
  return found;
}
