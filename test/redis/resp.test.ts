import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRedisUrl, RespConnection } from '../../src/redis/resp.js';

/**
 * The RESP connection when the other side goes away: against a listener that accepts and never
 * reads (so writes back up), then drops the connection.
 */

const listeners: Server[] = [];

afterAll(() => {
  for (const listener of listeners) listener.close();
});

async function silentListener(): Promise<{ port: number; accepted: Promise<Socket> }> {
  let accept!: (socket: Socket) => void;
  const accepted = new Promise<Socket>((resolve) => (accept = resolve));
  const listener = createServer((socket) => {
    socket.pause();
    accept(socket);
  });
  listeners.push(listener);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return { port: (listener.address() as { port: number }).port, accepted };
}

describe('RESP connection lost mid-pipeline', () => {
  it('a write waiting for drain, every pending reply and every later command fail (handled) once the peer drops the connection', async () => {
    const { port, accepted } = await silentListener();
    const connection = await RespConnection.open(parseRedisUrl(`redis://127.0.0.1:${port}`));
    const peer = await accepted;
    const value = Buffer.alloc(1 << 20, 0x61);
    const replies = Array.from({ length: 64 }, (_, index) => connection.send(['SET', `key:${index}`, value]));
    const drained = connection.drained();
    peer.destroy();
    await expect(drained).rejects.toThrow(
      /Redis at 127\.0\.0\.1:\d+ closed the connection|the connection to Redis at 127\.0\.0\.1:\d+ was lost/,
    );
    for (const reply of replies) await expect(reply).rejects.toThrow(/127\.0\.0\.1/);
    await expect(connection.send(['PING'])).rejects.toThrow(/127\.0\.0\.1/);
    await expect(connection.drained()).rejects.toThrow(/127\.0\.0\.1/);
    connection.close();
  });
});
