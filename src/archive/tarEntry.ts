import { Header, Pax } from 'tar';

const TAR_BLOCK = 512;

/** Header blocks (with a PAX extension for long or non-ASCII names) for one regular file. */
export function fileHeader(path: string, size: number, mtime: Date, mode = 0o600): Buffer {
  const fields = { path, size, mtime, mode, type: 'File' as const, uid: 0, gid: 0, uname: '', gname: '' };
  const block = Buffer.alloc(TAR_BLOCK);
  const needsPax = new Header(fields).encode(block);
  if (!needsPax) return block;
  return Buffer.concat([new Pax({ path, size, mtime }).encode(), block]);
}

/** Zero bytes that pad a file's content to the next 512-byte block. */
export function contentPadding(size: number): Buffer {
  return Buffer.alloc((TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK);
}

/** Two zero blocks end a tar archive. */
export const END_OF_ARCHIVE = Buffer.alloc(TAR_BLOCK * 2);

export function directoryHeader(path: string, mtime: Date, mode = 0o700): Buffer {
  const name = path.endsWith('/') ? path : `${path}/`;
  const block = Buffer.alloc(TAR_BLOCK);
  const needsPax = new Header({ path: name, size: 0, mtime, mode, type: 'Directory', uid: 0, gid: 0, uname: '', gname: '' }).encode(block);
  return needsPax ? Buffer.concat([new Pax({ path: name, mtime }).encode(), block]) : block;
}
