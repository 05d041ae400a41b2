// What the mongodump and mongorestore STAND-INS share: argument parsing, log lines in the
// real tools' format, and the connection step (server down, authentication).
'use strict';
const fs = require('node:fs');

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

module.exports = { STATE, optionsOf, recordCall, log, fail, connect };
