import { describe, expect, it } from 'vitest';
import { describeExit } from '../../src/base/processes.js';
import type { MongoTools } from '../../src/mongo/tools.js';
import { lastLines, maskCredentials, restoreCounts, ToolOutput, toolFailure } from '../../src/mongo/toolOutput.js';

describe('credentials in lines relayed from mongodump/mongorestore', () => {
  it.each([
    [
      'failed to connect to mongodb://root:s3cr%40t@db.example.com:27017/?authSource=admin: auth error',
      'failed to connect to mongodb://root:***@db.example.com:27017/?authSource=admin: auth error',
    ],
    ['mongodb+srv://app:p@ss:w@rd@cluster0.example.net/orkestra', 'mongodb+srv://app:***@cluster0.example.net/orkestra'],
    ['mongodb://a:b@h1:1,h2:2/?replicaSet=rs', 'mongodb://a:***@h1:1,h2:2/?replicaSet=rs'],
    ['mongodb://h/?authSource=admin&password=hunter22&tls=true', 'mongodb://h/?authSource=admin&password=***&tls=true'],
    ['authMechanismProperties=AWS_SESSION_TOKEN:FQoGZXIvYXdz,x', 'authMechanismProperties=AWS_SESSION_TOKEN:***,x'],
    [
      'no credentials: mongodb://db.example.com:27017/ and mongodb://user@host/',
      'no credentials: mongodb://db.example.com:27017/ and mongodb://user@host/',
    ],
  ])('%s', (line, expected) => {
    expect(maskCredentials(line)).toBe(expected);
  });

  it('masks the given secrets wherever they appear, plain or URL-encoded; a very short one is left to the patterns', () => {
    expect(maskCredentials('login as root with s3cr@t failed (s3cr%40t)', ['s3cr@t'])).toBe('login as root with *** failed (***)');
    expect(maskCredentials('abc', ['ab'])).toBe('abc');
  });

  it('a kept tail that starts inside a line drops that partial line: half a connection string is never shown', () => {
    const output = new ToolOutput(40, []);
    output.push(Buffer.from('x'.repeat(20) + ' mongodb://root:hunter22@h/ failed\n'));
    output.push(Buffer.from('second line\n'));
    expect(output.toString()).toBe('second line\n');
    const whole = new ToolOutput(1024, []);
    whole.push(Buffer.from('mongodb://root:hunter22@h/ failed\n'));
    expect(whole.toString()).toBe('mongodb://root:***@h/ failed\n');
  });
});

describe('how a tool ended, in words', () => {
  const tools = { where: 'in okb-mongo', reachHint: 'Check mongod.', loginHint: 'Check the login.' } as MongoTools;

  it('an exit code, a signal, or an exit code of 128 + a signal number (as docker exec reports one)', () => {
    expect(describeExit(1)).toBe('exited with code 1');
    expect(describeExit(137)).toBe('was killed by SIGKILL');
    expect(describeExit(143, 'SIGTERM')).toBe('was killed by SIGTERM');
    expect(toolFailure('mongorestore', { exitCode: 137, stdout: '', stderr: '' }, tools).message).toBe(
      'mongorestore was killed by SIGKILL: no error output',
    );
  });

  it("mongorestore's summary is counted, and left out of the lines quoted", () => {
    const stderr =
      '2026-12-04T23:00:00.000+0000\tcontinuing through error: E11000 duplicate key error\n' +
      '2026-12-04T23:00:00.000+0000\t3 document(s) restored successfully. 2 document(s) failed to restore.\n';
    expect(restoreCounts(stderr)).toEqual({ restored: 3, failed: 2 });
    expect(restoreCounts('Failed: no summary')).toBeUndefined();
    expect(lastLines(stderr)).toBe('continuing through error: E11000 duplicate key error');
  });
});
