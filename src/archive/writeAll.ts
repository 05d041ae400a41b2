import { open, type FileHandle } from 'node:fs/promises';

/** `FileHandle.write` may write less than asked (a full pipe, a signal): loop until every byte is out. */
export async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

/** Reads a file through one reused buffer: a stream would allocate (and leave for the GC) every megabyte of a multi-GB body. */
export async function copyThrough(sourcePath: string, write: (chunk: Buffer) => Promise<void>): Promise<void> {
  for await (const chunk of fileChunks(sourcePath)) await write(chunk);
}

/** A file's bytes, a megabyte at a time through one reused buffer: each chunk is valid only until the next is asked for. */
export async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  const source = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await source.read(buffer, 0, buffer.length);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await source.close();
  }
}
