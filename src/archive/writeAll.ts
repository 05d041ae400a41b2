import type { FileHandle } from 'node:fs/promises';

/** `FileHandle.write` may write less than asked (a full pipe, a signal): loop until every byte is out. */
export async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}
