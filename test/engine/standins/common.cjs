// What the mongodump and mongorestore STAND-INS share: argument parsing, log lines in the
// real tools' format, and the connection step (server down, authentication).
'use strict';
const fs = require('node:fs');
const zlib = require('node:zlib');

// In the image the state is /stand-in; run on the host (MONGO_URI tests), MONGO_STANDIN_STATE names a folder.
const STATE = process.env.MONGO_STANDIN_STATE || '/stand-in';

function optionsOf(args) {
  return {
    flag: (name) => args.includes(`--${name}`),
    values(name) {
      const found = [];
      args.forEach((arg, index) => {
        if (arg.startsWith(`--${name}=`)) found.push(arg.slice(name.length + 3));
        else if (arg === `--${name}`) found.push(args[index + 1]);
      });
      return found;
    },
  };
}

function recordCall(tool, args) {
  fs.appendFileSync(`${STATE}/calls.log`, `${tool}${args.map((arg) => ` ${arg}`).join('')}\n`);
}

function log(message) {
  process.stderr.write(`${new Date().toISOString()}\t${message}\n`);
}

function fail(message) {
  log(`Failed: ${message}`);
  process.exit(1);
}

/**
 * The connection the real tools make before reading or writing any data: a server that is
 * down, or a wrong user or password, fails here with the real tools' messages — which carry
 * the whole connection string as given (password included) when --config holds one (uri:).
 */
function connect(options) {
  const [config] = options.values('config');
  const text = config && fs.existsSync(config) ? fs.readFileSync(config, 'utf8') : '';
  const uri = /^uri:\s*(.*)$/m.exec(text);
  const given = uri ? JSON.parse(uri[1]) : 'mongodb://localhost/';
  if (fs.existsSync(`${STATE}/server-down`)) {
    fail(
      `error connecting to host: failed to connect to ${given}: server selection error: server selection timeout, ` +
        'current topology: { Type: Single, Servers: [{ Addr: localhost:27017, Type: Unknown, Last error: dial tcp 127.0.0.1:27017: ' +
        'connect: connection refused }, ] }',
    );
  }
  const expected = process.env.MONGO_INITDB_ROOT_PASSWORD;
  if (!expected) return;
  const match = /^password:\s*(.*)$/m.exec(text);
  let password;
  try {
    password = match ? JSON.parse(match[1]) : undefined;
  } catch {
    password = match[1];
  }
  let [username] = options.values('username');
  // --config may hold the whole connection string instead (uri:), as the real tools accept.
  if (uri) {
    const parsed = new URL(given.replace(/^mongodb(\+srv)?:/, 'http:'));
    password = decodeURIComponent(parsed.password);
    username = decodeURIComponent(parsed.username);
  }
  if (password !== expected || username !== (process.env.MONGO_INITDB_ROOT_USERNAME || 'admin')) {
    fail(
      `error connecting to host: failed to connect to ${given}: connection() error occurred during connection ` +
        'handshake: auth error: sasl conversation error: unable to authenticate using mechanism "SCRAM-SHA-256": ' +
        '(AuthenticationFailed) Authentication failed.',
    );
  }
}

// The server's data: the namespaces of /stand-in/server.archive (a mongodump archive, written
// back after every real restore), else of the fixture a real mongodump wrote. Each namespace
// keeps its metadata document and its documents as raw BSON.
const MAGIC = 0x8199e26d;
const SERVER = `${STATE}/server.archive`;

function bsonModule() {
  return require(fs.existsSync('/opt/standin/node_modules/bson') ? '/opt/standin/node_modules/bson' : 'bson');
}

/** Splits a whole uncompressed mongodump archive into its header and namespaces. */
function parseArchive(bytes) {
  const { deserialize } = bsonModule();
  if (bytes.length < 4 || bytes.readUInt32LE(0) !== MAGIC) throw new Error('not a mongodump archive');
  let offset = 4;
  const next = () => {
    const length = bytes.readInt32LE(offset);
    if (length === -1) {
      offset += 4;
      return null;
    }
    const document = bytes.subarray(offset, offset + length);
    offset += length;
    return document;
  };
  const header = next();
  const namespaces = new Map();
  for (let metadata = next(); metadata !== null; metadata = next()) {
    const { db, collection } = deserialize(metadata);
    namespaces.set(`${db}.${collection}`, { db, collection, metadata, documents: [] });
  }
  while (offset < bytes.length) {
    const { db, collection, EOF } = deserialize(next());
    if (EOF) {
      next();
      continue;
    }
    // A time-series collection's data comes under its buckets namespace, which has no metadata.
    const key = `${db}.${collection}`;
    if (!namespaces.has(key)) namespaces.set(key, { db, collection, metadata: undefined, documents: [] });
    const entry = namespaces.get(key);
    for (let document = next(); document !== null; document = next()) entry.documents.push(document);
  }
  return { header, namespaces };
}

function serverState() {
  const fixture = `${STATE}/${process.env.MONGO_STANDIN_FIXTURE || 'test.bar.archive'}`;
  return parseArchive(fs.readFileSync(fs.existsSync(SERVER) ? SERVER : fixture));
}

/** Writes the server's namespaces back as mongodump would dump them. */
function saveServerState(state) {
  fs.writeFileSync(`${SERVER}.new`, archiveOf(state));
  fs.renameSync(`${SERVER}.new`, SERVER);
  fs.rmSync(`${SERVER}.gz`, { force: true });
}

/** Namespaces as a mongodump archive: prelude, data segments, EOF headers with their CRC-64. */
function archiveOf({ header, namespaces }) {
  const { serialize, Long } = bsonModule();
  const terminator = Buffer.alloc(4);
  terminator.writeInt32LE(-1);
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(MAGIC);
  const parts = [magic, header];
  for (const entry of namespaces.values()) if (entry.metadata) parts.push(entry.metadata);
  parts.push(terminator);
  for (const { db, collection, documents } of namespaces.values()) {
    if (documents.length > 0) {
      parts.push(serialize({ db, collection, EOF: false, CRC: Long.fromNumber(0) }), ...documents, terminator);
    }
    const crc = BigInt.asIntN(64, crc64(documents));
    parts.push(serialize({ db, collection, EOF: true, CRC: Long.fromBigInt(crc) }), terminator);
  }
  return Buffer.concat(parts);
}

/** A metadata document naming another namespace (mongorestore --nsFrom/--nsTo). */
function renamedMetadata(metadata, db, collection) {
  if (!metadata) return undefined;
  const { serialize, deserialize } = bsonModule();
  return serialize({ ...deserialize(metadata), db, collection });
}

const CRC_HI = new Uint32Array(256);
const CRC_LO = new Uint32Array(256);
for (let index = 0; index < 256; index += 1) {
  let [hi, lo] = [0, index];
  for (let bit = 0; bit < 8; bit += 1) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi >>>= 1;
    if (carry) [hi, lo] = [(hi ^ 0xc96c5795) >>> 0, (lo ^ 0xd7870f42) >>> 0];
  }
  [CRC_HI[index], CRC_LO[index]] = [hi, lo];
}

/** Go's crc64 with the ECMA table over the documents, as mongodump writes into each EOF header. */
function crc64(buffers) {
  let [hi, lo] = [0xffffffff, 0xffffffff];
  for (const buffer of buffers) {
    for (const byte of buffer) {
      const slot = (lo ^ byte) & 0xff;
      lo = (((lo >>> 8) | (hi << 24)) ^ CRC_LO[slot]) >>> 0;
      hi = ((hi >>> 8) ^ CRC_HI[slot]) >>> 0;
    }
  }
  return (BigInt(~hi >>> 0) << 32n) | BigInt(~lo >>> 0);
}

// Benchmark mode (MONGO_STANDIN_DISCARD): the server keeps nothing it is given, and its data is
// the gzip-compressed fixture ($MONGO_STANDIN_FIXTURE.gz), hundreds of megabytes: never read whole.
const benchmarkMode = () => Boolean(process.env.MONGO_STANDIN_DISCARD);
const benchmarkFixture = () => `${STATE}/${process.env.MONGO_STANDIN_FIXTURE || 'test.bar.archive'}.gz`;

/**
 * The collections' metadata documents of a gzip-compressed archive, from its prelude alone:
 * only the first part of the file is read and gunzipped (twice as much each time the prelude
 * runs past it). Synchronous, for the shell's synchronous calls.
 */
function gzipPrelude(path) {
  const { deserialize } = bsonModule();
  const descriptor = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(descriptor).size;
    for (let length = 64 * 1024; ; length *= 2) {
      const head = Buffer.alloc(Math.min(length, size));
      fs.readSync(descriptor, head, 0, head.length, 0);
      const bytes = zlib.gunzipSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      const metadata = preludeOf(bytes);
      if (metadata) return metadata.map((document) => deserialize(document));
      if (head.length === size) throw new Error('unexpected EOF in archive');
    }
  } finally {
    fs.closeSync(descriptor);
  }
}

/** The metadata documents of an archive's prelude, or undefined when `bytes` ends before its terminator. */
function preludeOf(bytes) {
  if (bytes.length >= 4 && bytes.readUInt32LE(0) !== MAGIC) throw new Error('not a mongodump archive');
  const documents = [];
  let offset = 4;
  for (let index = 0; offset + 4 <= bytes.length; index += 1) {
    const length = bytes.readInt32LE(offset);
    if (length === -1) return documents;
    if (offset + length > bytes.length) return undefined;
    if (index > 0) documents.push(bytes.subarray(offset, offset + length)); // the first one is the header
    offset += length;
  }
  return undefined;
}

module.exports = {
  MAGIC,
  STATE,
  optionsOf,
  recordCall,
  log,
  fail,
  connect,
  serverState,
  saveServerState,
  archiveOf,
  renamedMetadata,
  benchmarkMode,
  benchmarkFixture,
  gzipPrelude,
  bsonModule,
};
