import { execFileSync } from 'node:child_process';

/** Whether Debian's redis-server is on this host (`.ci/run` installs it): tests of real RDB files and replication need it. */
export const hasRedisServer = (() => {
  try {
    execFileSync('redis-server', ['--version']);
    return true;
  } catch {
    return false;
  }
})();
