import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly method: string;
  /** The path and query, e.g. /ping/abc/start. */
  readonly path: string;
  readonly contentType: string;
  readonly body: string;
}

export interface WebhookReceiver {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** Every request as it arrived (a hanging receiver records it before never answering). */
  readonly requests: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * An HTTP receiver on 127.0.0.1 (a free port) that records each request. `answer` gives the
 * status for a request, or 'hang' to never answer it (the connection stays open until close).
 */
export async function startWebhookReceiver(answer: (request: ReceivedRequest) => number | 'hang' = () => 200): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((incoming, response) => {
    void readBody(incoming).then((body) => {
      const request = {
        method: incoming.method ?? '',
        path: incoming.url ?? '',
        contentType: incoming.headers['content-type'] ?? '',
        body,
      };
      requests.push(request);
      const status = answer(request);
      if (status !== 'hang') response.writeHead(status).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(incoming: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
