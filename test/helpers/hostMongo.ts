import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Binary, Document } from 'mongodb';
import { vi } from 'vitest';
import { CongoServer } from '@push.rocks/smartmongo/dist_ts/congodb/index.js';
import { AdminHandler } from '@push.rocks/smartmongo/dist_ts/congodb/server/handlers/AdminHandler.js';
import { makeProject } from './project.js';
import { temporaryFolder } from './tempFolders.js';
import { freePort } from '../engine/stack.js';

/**
 * MongoDB without Docker (MONGO_URI): the mongodump/mongorestore STAND-INS installed as the
 * host's tools (ORKESTRA_MONGO_TOOLS), and CongoDB — a MongoDB wire-protocol server in
 * TypeScript, not MongoDB — for what the tool asks through the driver.
 */
const STANDINS = fileURLToPath(new URL('../engine/standins/', import.meta.url));
const NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/mongodump/test.bar.archive', import.meta.url));

/** A folder holding executable mongodump and mongorestore STAND-INS. */
export async function installStandIns(): Promise<string> {
  const tools = await temporaryFolder('okb-mongo-tools-');
  // The stand-ins are CommonJS without an extension: beside this repository's package.json
  // ("type": "module") Node would load them as ES modules, so they run from a copy named .cjs.
  await mkdir(join(tools, 'lib'));
  await copyFile(join(STANDINS, 'common.cjs'), join(tools, 'lib/common.cjs'));
  for (const tool of ['mongodump', 'mongorestore']) {
    await copyFile(join(STANDINS, tool), join(tools, `lib/${tool}.cjs`));
    const script = `#!/bin/sh\nNODE_PATH="${NODE_MODULES}" exec "${process.execPath}" "${join(tools, `lib/${tool}.cjs`)}" "$@"\n`;
    await writeFile(join(tools, tool), script);
    await chmod(join(tools, tool), 0o755);
  }
  return tools;
}

/** A state folder for the stand-ins: the "server's" data is the fixture until a restore replaces it. */
export async function standInState(): Promise<string> {
  const state = await temporaryFolder('okb-mongo-state-');
  await copyFile(FIXTURE, join(state, 'test.bar.archive'));
  return state;
}

/** A project whose MongoDB is MONGO_URI, served by the stand-ins of `tools`. */
export function hostProject(uri: string, tools: string, extra: string[] = []): Promise<string> {
  return makeProject({ env: [`MONGO_URI=${uri}`, 'MONGO_DATABASE=test', `ORKESTRA_MONGO_TOOLS=${tools}`, ...extra, ''].join('\n') });
}

/** The pid a stand-in left in its state folder (`dump`, `version`) once it has started. */
export async function standInPid(state: string, name: string, timeoutMs = 60_000): Promise<number> {
  const file = join(state, `${name}.pid`);
  await vi.waitFor(
    () => {
      if (!existsSync(file)) throw new Error(`the stand-in never wrote ${file}`);
    },
    { timeout: timeoutMs, interval: 20 },
  );
  return Number((await readFile(file, 'utf8')).trim());
}

/**
 * The environment of a run against the host STAND-INS: their state folder, no engine to fall back
 * on and, with `password`, the root login the stand-ins' own server checks.
 */
export function standInEnv(state: string, password?: string): Record<string, string> {
  const env: Record<string, string> = { MONGO_STANDIN_STATE: state, DOCKER_HOST: 'unix:///nonexistent.sock' };
  if (password !== undefined) Object.assign(env, { MONGO_INITDB_ROOT_USERNAME: 'root', MONGO_INITDB_ROOT_PASSWORD: password });
  return env;
}

export interface HostMongo {
  /** The folder of the mongodump and mongorestore STAND-INS. */
  tools: string;
  server: { port: number; stop(): Promise<void> };
  /** A URI with the password, PLAIN login, to the server: the driver's login and the stand-ins' check pass. */
  uri: string;
  /** A project whose MongoDB is `uri`, served by these stand-ins, with further .env lines. */
  project(uri: string, extra?: string[]): Promise<string>;
}

/** The STAND-INS installed and a CongoDB server that refuses any password but `password`. Stop with `server.stop()`. */
export async function startHostMongo(password: string): Promise<HostMongo> {
  const tools = await installStandIns();
  const server = await startCongo(password);
  const uri = `mongodb://root:${encodeURIComponent(password)}@127.0.0.1:${server.port}/?authMechanism=PLAIN&directConnection=true`;
  return { tools, server, uri, project: (uri, extra = []) => hostProject(uri, tools, extra) };
}

/**
 * A CongoDB server. CongoDB accepts any login; with `password` it refuses a PLAIN login
 * (authMechanism=PLAIN, which CongoDB can answer) whose password differs, as MongoDB would.
 */
export async function startCongo(password?: string): Promise<{ port: number; stop(): Promise<void> }> {
  if (password !== undefined) requirePlainPassword(password);
  const port = await freePort();
  const server = new CongoServer({ port });
  await server.start();
  return { port, stop: () => server.stop() };
}

function requirePlainPassword(password: string): void {
  type Handler = (this: unknown, context: { command: Document }) => Promise<Document>;
  const prototype = AdminHandler.prototype as unknown as { handleSaslStart: Handler };
  const accept = Object.getOwnPropertyDescriptor(prototype, 'handleSaslStart')!.value as Handler;
  prototype.handleSaslStart = async function (context) {
    const payload = Buffer.from((context.command.payload as Binary).buffer);
    const [, , given] = payload.toString('utf8').split('\0');
    if (context.command.mechanism === 'PLAIN' && given !== password) {
      return { ok: 0, errmsg: 'Authentication failed.', code: 18, codeName: 'AuthenticationFailed' };
    }
    return accept.call(this, context);
  };
}
