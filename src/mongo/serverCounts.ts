import { connect } from 'node:net';
import type { Document, MongoClient, MongoClientOptions } from 'mongodb';
import { firstLine } from '../base/format.js';

/** Where a MongoDB server answers, and the root credentials (given to the driver, never put in a URL or a message). */
export interface MongoServerAddress {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
}

/** A server that could not be asked: why, in one line. */
export class MongoUnreachable extends Error {}

/** How long the driver looks for the server before the count is given up. */
const SELECTION_TIMEOUT_MS = 10_000;

/**
 * Asks a MongoDB server through the official driver: one connection for the work, closed after.
 * A server that does not answer or refuses the credentials becomes a MongoUnreachable.
 */
export async function withMongoServer<T>(address: MongoServerAddress, work: (server: MongoServer) => Promise<T>): Promise<T> {
  await probe(address);
  const where = `${address.host}:${address.port}`;
  const auth = address.password ? { auth: { username: address.username, password: address.password }, authSource: 'admin' } : {};
  return withClient(
    `mongodb://${where}/?directConnection=true`,
    auth,
    (reason) => `no MongoDB server answered at ${where} (${reason})`,
    work,
  );
}

/**
 * A port nobody listens on is known at once; the driver would keep looking for the server until
 * its selection timeout (10 s) before saying so.
 */
function probe(address: MongoServerAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port, timeout: SELECTION_TIMEOUT_MS });
    const fail = (why: string) => {
      socket.destroy();
      reject(new MongoUnreachable(`no MongoDB server answered at ${address.host}:${address.port} (${why})`));
    };
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => fail('no answer'));
    socket.once('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
  });
}

/** The same through a whole connection string (MONGO_URI), its credentials and options included; never echoed in a message. */
export function withMongoUri<T>(uri: string, work: (server: MongoServer) => Promise<T>): Promise<T> {
  const unreachable = (reason: string) => `the server did not answer or refused the login (${reason.split(uri).join('<MONGO_URI>')})`;
  return withClient(uri, {}, unreachable, work);
}

async function withClient<T>(
  uri: string,
  options: MongoClientOptions,
  unreachable: (reason: string) => string,
  work: (server: MongoServer) => Promise<T>,
): Promise<T> {
  // Loaded only by a run that talks to MongoDB itself (see age/package.ts for what it saves).
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: SELECTION_TIMEOUT_MS,
    connectTimeoutMS: SELECTION_TIMEOUT_MS,
    ...options,
  });
  try {
    await client.connect();
  } catch (error) {
    await client.close().catch(() => undefined);
    throw new MongoUnreachable(unreachable(firstLine((error as Error).message)));
  }
  try {
    return await work(new MongoServer(client));
  } finally {
    await client.close().catch(() => undefined);
  }
}

export class MongoServer {
  constructor(private readonly client: MongoClient) {}

  async version(): Promise<string> {
    const info = await this.client.db('admin').command({ buildInfo: 1 });
    return String(info.version);
  }

  /** The collection names of a database (views and system collections included). */
  async collections(database: string): Promise<string[]> {
    const listed = await this.client.db(database).listCollections({}, { nameOnly: true }).toArray();
    return listed.map((collection) => collection.name);
  }

  /** Drops collections of a database (a time-series collection takes its buckets); one that does not exist is skipped. */
  async drop(database: string, names: readonly string[]): Promise<void> {
    const existing = new Set(await this.collections(database));
    for (const name of names) if (existing.has(name)) await this.client.db(database).dropCollection(name);
  }

  /** Documents of `db.collection` matching the filter (all of them without one). */
  async count(namespace: string, filter: Document = {}): Promise<number> {
    const dot = namespace.indexOf('.');
    return this.client
      .db(namespace.slice(0, dot))
      .collection(namespace.slice(dot + 1))
      .countDocuments(filter);
  }
}
